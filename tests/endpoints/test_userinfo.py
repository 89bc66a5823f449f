"""Userinfo endpoint (OIDC Core §5.3; RFC 6750 §2-3; duende §1.1; security.md 1.10 items 96-99)."""

from __future__ import annotations

import pytest

from tests.support.browser import refresh, tokens_for
from tests.support.client_auth import jwt_parts
from tests.support.server import Server, basic


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def challenge(response) -> str:
    return response.headers["www-authenticate"]


async def client_credentials_token(server: Server) -> str:
    response = await server.token({"grant_type": "client_credentials", "scope": "api1"}, headers=basic("m2m", "secret"))
    return response.json()["access_token"]


# -- success -------------------------------------------------------------------------------------------------------


async def test_get_with_a_bearer_header_returns_the_claims_of_the_granted_identity_scopes(server):
    body = await tokens_for(server.client, scope="openid profile email api1")
    response = await server.client.get("/connect/userinfo", headers=bearer(body["access_token"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    info = response.json()
    assert info == {"sub": "1", "name": "Alice Smith", "email": "alice@example.com", "email_verified": True}
    assert info["sub"] == jwt_parts(body["id_token"])[1]["sub"]


async def test_only_the_claims_of_granted_scopes_are_returned(server):
    body = await tokens_for(server.client, scope="openid api1")
    response = await server.client.get("/connect/userinfo", headers=bearer(body["access_token"]))
    assert response.json() == {"sub": "1"}


async def test_post_with_the_token_in_the_form_body_is_accepted(server):
    body = await tokens_for(server.client, scope="openid profile")
    response = await server.client.post("/connect/userinfo", data={"access_token": body["access_token"]})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Alice Smith"


async def test_post_with_a_bearer_header_is_accepted(server):
    body = await tokens_for(server.client, scope="openid profile")
    response = await server.client.post("/connect/userinfo", headers=bearer(body["access_token"]))
    assert response.status_code == 200 and response.json()["sub"] == "1"


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
async def test_bearer_scheme_is_case_insensitive(server, scheme):
    body = await tokens_for(server.client, scope="openid")
    response = await server.client.get(
        "/connect/userinfo", headers={"Authorization": f"{scheme} {body['access_token']}"}
    )
    assert response.status_code == 200


async def test_reference_access_token_is_accepted(server):
    body = await tokens_for(server.client, "web.reference", scope="openid profile")
    response = await server.client.get("/connect/userinfo", headers=bearer(body["access_token"]))
    assert response.status_code == 200 and response.json()["name"] == "Alice Smith"


# -- RFC 6750 errors -----------------------------------------------------------------------------------------------


async def test_request_without_a_token_is_401_with_a_bare_bearer_challenge(server):
    response = await server.client.get("/connect/userinfo")
    assert response.status_code == 401
    assert challenge(response).startswith("Bearer")
    assert "error=" not in challenge(response)


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 5000, "0" * 64 + "-1"])
async def test_invalid_token_is_401_invalid_token(server, token):
    response = await server.client.get("/connect/userinfo", headers=bearer(token))
    assert response.status_code == 401
    assert challenge(response).startswith("Bearer")
    assert 'error="invalid_token"' in challenge(response)
    assert response.json()["error"] == "invalid_token"


async def test_expired_token_is_401_invalid_token(server):
    body = await tokens_for(server.client, scope="openid")
    server.clock.advance(3601)
    response = await server.client.get("/connect/userinfo", headers=bearer(body["access_token"]))
    assert response.status_code == 401 and 'error="invalid_token"' in challenge(response)


async def test_tampered_token_is_401_invalid_token(server):
    body = await tokens_for(server.client, scope="openid")
    header, payload, signature = body["access_token"].split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}{'AAAA' if not signature.endswith('AAAA') else 'BBBB'}"
    response = await server.client.get("/connect/userinfo", headers=bearer(tampered))
    assert response.status_code == 401


async def test_id_token_is_not_accepted_as_an_access_token(server):
    body = await tokens_for(server.client, scope="openid")
    response = await server.client.get("/connect/userinfo", headers=bearer(body["id_token"]))
    assert response.status_code == 401


async def test_token_without_openid_is_403_insufficient_scope(server):
    body = await tokens_for(server.client)
    narrowed = (await refresh(server.client, "web", body["refresh_token"], scope="api1")).json()
    response = await server.client.get("/connect/userinfo", headers=bearer(narrowed["access_token"]))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in challenge(response)


async def test_client_credentials_token_is_refused(server):
    response = await server.client.get("/connect/userinfo", headers=bearer(await client_credentials_token(server)))
    assert response.status_code in (401, 403)


async def test_token_of_an_inactive_user_is_401_invalid_token(server):
    body = await tokens_for(server.client, scope="openid")
    user = await server.services.users.find_by_username("alice")
    user.is_active = False
    response = await server.client.get("/connect/userinfo", headers=bearer(body["access_token"]))
    assert response.status_code == 401 and 'error="invalid_token"' in challenge(response)


async def test_token_of_a_disabled_client_is_401(server):
    body = await tokens_for(server.client, scope="openid")
    client = await server.services.clients.find_client_by_id("web")
    client.enabled = False
    response = await server.client.get("/connect/userinfo", headers=bearer(body["access_token"]))
    assert response.status_code == 401


async def test_token_in_the_query_string_is_not_accepted(server):
    body = await tokens_for(server.client, scope="openid")
    response = await server.client.get(f"/connect/userinfo?access_token={body['access_token']}")
    assert response.status_code == 401
    response = await server.client.post(f"/connect/userinfo?access_token={body['access_token']}")
    assert response.status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic YWxpY2U6YWxpY2U=", "Token abc", "Bearer  a b"])
async def test_malformed_authorization_header_is_an_error_not_a_500(server, header):
    response = await server.client.get("/connect/userinfo", headers={"Authorization": header})
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_request", "invalid_token")


async def test_two_authorization_headers_are_invalid_request(server):
    body = await tokens_for(server.client, scope="openid")
    headers = [("Authorization", f"Bearer {body['access_token']}"), ("Authorization", "Bearer other")]
    response = await server.client.get("/connect/userinfo", headers=headers)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_token_in_both_header_and_body_is_invalid_request(server):
    body = await tokens_for(server.client, scope="openid")
    response = await server.client.post(
        "/connect/userinfo", headers=bearer(body["access_token"]), data={"access_token": body["access_token"]}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_other_methods_are_405(server, method):
    response = await server.client.request(method, "/connect/userinfo")
    assert response.status_code == 405
