"""security.md §1.8, introspection: an API resource learns nothing about handles that are not access tokens (refresh
tokens, codes), and a token is described only to the API it was issued for."""

from __future__ import annotations

import pytest

from tests.security.support import server_with
from tests.support.browser import obtain_code, redeem
from tests.support.server import basic


@pytest.fixture
async def server():
    async with server_with() as srv:
        yield srv


async def introspect(server, token: str, api: str = "urn:api1", secret: str = "api1-secret"):
    response = await server.client.post("/connect/introspect", data={"token": token}, headers=basic(api, secret))
    assert response.status_code == 200, response.text
    return response.json()


async def test_api_learns_nothing_about_a_refresh_token_or_a_code(server):
    grant = await obtain_code(server.client, "web.reference", scope="openid api1 offline_access")
    assert await introspect(server, grant.code) == {"active": False}
    tokens = (await redeem(server.client, grant)).json()
    assert await introspect(server, tokens["refresh_token"]) == {"active": False}
    assert await introspect(server, tokens["id_token"]) == {"active": False}
    assert (await introspect(server, tokens["access_token"]))["active"] is True


async def test_reference_token_of_one_api_is_inactive_for_another(server):
    grant = await obtain_code(server.client, "web.reference", scope="openid api1")
    tokens = (await redeem(server.client, grant)).json()
    assert (await introspect(server, tokens["access_token"]))["active"] is True
    assert await introspect(server, tokens["access_token"], "urn:api2", "api2-secret") == {"active": False}


async def test_api_secret_of_one_api_does_not_authenticate_another(server):
    response = await server.client.post(
        "/connect/introspect", data={"token": "x"}, headers=basic("urn:api2", "api1-secret")
    )
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client"}
