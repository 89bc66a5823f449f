from tests.support.server import basic


async def test_client_credentials_token_is_issued(server):
    response = await server.token({"grant_type": "client_credentials", "scope": "api1"}, headers=basic("m2m", "secret"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "api1"
