"""Percent-encoded bytes that are not UTF-8 (found by tests/fuzz): once they were decoded to U+FFFD, so that two
different requests parsed to the same parameters; now they are ``invalid_request`` and nothing is issued."""

from __future__ import annotations

import pytest

from tests.security.support import server_with
from tests.support.server import basic


@pytest.fixture
async def server():
    async with server_with("") as srv:
        yield srv


@pytest.mark.parametrize("body", [b"grant_type=client_credentials&scope=api1%80", b"grant_type=client_credentials\xff"])
async def test_a_token_request_that_is_not_utf8_is_an_invalid_request(server, body):
    response = await server.client.post(
        "/connect/token",
        content=body,
        headers={**basic("m2m", "secret"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_an_authorize_query_that_is_not_utf8_is_refused_without_a_redirect(server):
    response = await server.client.get("/connect/authorize?client_id=web&redirect_uri=https%3A%2F%2Fx%80")
    assert response.status_code == 400 or "/home/error" in response.headers.get("location", "")
    assert "code=" not in response.headers.get("location", "")
