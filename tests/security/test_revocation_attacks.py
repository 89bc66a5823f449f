"""security.md §1.9, revocation (RFC 7009 §2.1): revoking a refresh token also ends the access tokens of its grant,
reference and JWT alike, and the rotated successors of the token."""

from __future__ import annotations

import pytest

from tests.security.support import bearer, server_with
from tests.support.browser import refresh, tokens_for
from tests.support.server import basic


@pytest.fixture
async def server():
    async with server_with() as srv:
        yield srv


async def revoke(server, client_id: str, token: str, hint: str | None = None):
    data = {"token": token, **({"token_type_hint": hint} if hint else {})}
    response = await server.client.post("/connect/revocation", data=data, headers=basic(client_id, "secret"))
    assert response.status_code == 200, response.text


async def introspect(server, token: str) -> dict:
    response = await server.client.post(
        "/connect/introspect", data={"token": token}, headers=basic("urn:api1", "api1-secret")
    )
    return response.json()


async def test_revoking_a_refresh_token_revokes_the_reference_access_token_of_its_grant(server):
    tokens = await tokens_for(server.client, "web.reference", scope="openid api1 offline_access")
    assert (await introspect(server, tokens["access_token"]))["active"] is True
    await revoke(server, "web.reference", tokens["refresh_token"], "refresh_token")
    assert await introspect(server, tokens["access_token"]) == {"active": False}
    assert (await refresh(server.client, "web.reference", tokens["refresh_token"])).status_code == 400


async def test_revoking_a_refresh_token_revokes_the_jwt_access_token_issued_with_it(server):
    tokens = await tokens_for(server.client)
    assert (await server.client.get("/connect/userinfo", headers=bearer(tokens["access_token"]))).status_code == 200
    await revoke(server, "web", tokens["refresh_token"])
    assert (await server.client.get("/connect/userinfo", headers=bearer(tokens["access_token"]))).status_code == 401
    assert await introspect(server, tokens["access_token"]) == {"active": False}


async def test_revoking_a_refresh_token_with_the_wrong_hint_still_revokes_it(server):
    tokens = await tokens_for(server.client)
    await revoke(server, "web", tokens["refresh_token"], "access_token")
    assert (await refresh(server.client, "web", tokens["refresh_token"])).status_code == 400


async def test_revoking_the_current_refresh_token_after_rotation_revokes_the_family_access_tokens(server):
    """RFC 7009 §2.1: revoking a refresh token ends every access token of the grant, earlier rotations included."""
    tokens = await tokens_for(server.client)
    rotated = (await refresh(server.client, "web", tokens["refresh_token"])).json()
    await revoke(server, "web", rotated["refresh_token"])
    for access_token in (tokens["access_token"], rotated["access_token"]):
        assert (await server.client.get("/connect/userinfo", headers=bearer(access_token))).status_code == 401


async def test_another_client_revoking_a_refresh_token_changes_nothing(server):
    tokens = await tokens_for(server.client)
    await revoke(server, "web.reference", tokens["refresh_token"])
    await revoke(server, "m2m", tokens["refresh_token"])
    assert (await server.client.get("/connect/userinfo", headers=bearer(tokens["access_token"]))).status_code == 200
    assert (await refresh(server.client, "web", tokens["refresh_token"])).status_code == 200
