"""Reference tokens over real HTTP for a server configured with :data:`tests.support.data.REFERENCE_TOML`: client
``ref`` issues them, ``urn:api1`` introspects them."""

from __future__ import annotations

import httpx

from tests.support.data import REFERENCE_SECRET


async def issue(client: httpx.AsyncClient, token_endpoint: str = "/connect/token") -> str:
    """A new reference token of client ``ref`` (client_credentials); fails the test unless it is issued."""
    response = await client.post(
        token_endpoint, data={"grant_type": "client_credentials"}, auth=("ref", REFERENCE_SECRET)
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def is_active(client: httpx.AsyncClient, token: str, introspection_endpoint: str = "/connect/introspect") -> bool:
    """What introspection by ``urn:api1`` says of ``token``; fails the test unless it answers 200."""
    response = await client.post(introspection_endpoint, data={"token": token}, auth=("urn:api1", REFERENCE_SECRET))
    assert response.status_code == 200, response.text
    return bool(response.json()["active"])
