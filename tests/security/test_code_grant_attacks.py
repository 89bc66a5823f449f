"""security.md §1.2, the token endpoint with ``authorization_code``: the cases tests/endpoints/
test_token_authorization_code.py does not cover (replay after 30 s, replay for a client whose access tokens carry
no ``jti``, handles of one kind presented as another)."""

from __future__ import annotations

import pytest

from tests.security.support import bearer, server_with
from tests.support.browser import obtain_code, redeem, refresh
from tests.support.server import basic


@pytest.fixture
async def server():
    async with server_with() as srv:
        yield srv


async def test_code_replayed_thirty_seconds_later_revokes_what_the_first_redemption_issued(server):
    grant = await obtain_code(server.client)
    first = await redeem(server.client, grant)
    assert first.status_code == 200, first.text
    tokens = first.json()
    assert (await server.client.get("/connect/userinfo", headers=bearer(tokens["access_token"]))).status_code == 200
    server.clock.advance(30)
    replay = await redeem(server.client, grant)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert (await server.client.get("/connect/userinfo", headers=bearer(tokens["access_token"]))).status_code == 401
    assert (await refresh(server.client, "web", tokens["refresh_token"])).status_code == 400
    introspection = await server.client.post(
        "/connect/introspect", data={"token": tokens["access_token"]}, headers=basic("urn:api1", "api1-secret")
    )
    assert introspection.json() == {"active": False}


async def test_code_replay_revokes_the_access_token_of_a_client_without_jwt_ids():
    """RFC 6749 §4.1.2: code replay revokes the access token even for a client with include_jwt_id = false."""

    def no_jti(builder):
        for client in builder.clients:
            if client.client_id == "web":
                client.include_jwt_id = False

    async with server_with(configure=no_jti) as server:
        grant = await obtain_code(server.client)
        tokens = (await redeem(server.client, grant)).json()
        assert (await redeem(server.client, grant)).status_code == 400
        userinfo = await server.client.get("/connect/userinfo", headers=bearer(tokens["access_token"]))
    assert userinfo.status_code == 401


async def test_refresh_token_is_not_accepted_as_an_authorization_code(server):
    grant = await obtain_code(server.client)
    tokens = (await redeem(server.client, grant)).json()
    response = await redeem(server.client, grant, code=tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_authorization_code_is_not_accepted_as_a_refresh_token(server):
    grant = await obtain_code(server.client)
    response = await refresh(server.client, "web", grant.code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert (await redeem(server.client, grant)).status_code == 200  # the code was not consumed by the attempt


async def test_code_redeemed_with_grant_type_of_another_case_is_unsupported(server):
    grant = await obtain_code(server.client)
    response = await redeem(server.client, grant, grant_type="Authorization_Code")
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"
    assert (await redeem(server.client, grant)).status_code == 200
