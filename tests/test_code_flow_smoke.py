from urllib.parse import urlencode

from tests.support.browser import Browser, pkce_pair, redirect_parameters
from tests.support.server import basic


async def test_code_flow_end_to_end(server):
    browser = Browser(server.client)
    verifier, challenge = pkce_pair()
    query = urlencode(
        {
            "client_id": "web",
            "response_type": "code",
            "redirect_uri": "https://web.example/cb",
            "scope": "openid profile api1 offline_access",
            "state": "xyz",
            "nonce": "n1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    page = await browser.get(f"/connect/authorize?{query}")
    assert page.status_code == 200, page.text
    page = await browser.login(page, "alice", "alice")
    assert page.status_code == 200, (page.status_code, page.headers, page.text[:500])
    final = await browser.submit(page, {"button": "yes"})
    assert final.status_code == 302, final.text
    params = redirect_parameters(final)
    assert params["state"] == "xyz" and params["iss"] == server.issuer, params
    token = await server.token(
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": "https://web.example/cb",
            "code_verifier": verifier,
        },
        headers=basic("web", "secret"),
    )
    assert token.status_code == 200, token.text
    body = token.json()
    assert "id_token" in body and "refresh_token" in body
    info = await server.client.get("/connect/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == "1" and info.json()["name"] == "Alice Smith"
    refreshed = await server.token(
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}, headers=basic("web", "secret")
    )
    assert refreshed.status_code == 200, refreshed.text
    again = await server.token(
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}, headers=basic("web", "secret")
    )
    assert again.status_code == 400
