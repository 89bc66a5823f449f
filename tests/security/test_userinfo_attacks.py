"""security.md §1.10, userinfo: CORS only for registered origins (item 99, also item 137 for discovery), the
subject equals the ID token's."""

from __future__ import annotations

import pytest

from tests.security.support import bearer, server_with
from tests.support.browser import tokens_for
from tests.support.client_auth import jwt_parts

CORS_TOML = """
[[clients]]
client_id = "spa"
require_client_secret = false
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://spa.example/cb"]
allowed_scopes = ["openid", "api1"]
allowed_cors_origins = ["https://spa.example"]
"""

CORS_PATHS = [
    "/connect/userinfo",
    "/connect/token",
    "/.well-known/openid-configuration",
    "/.well-known/openid-configuration/jwks",
    "/connect/revocation",
]


@pytest.fixture
async def server():
    async with server_with(CORS_TOML) as srv:
        yield srv


@pytest.mark.parametrize("path", CORS_PATHS)
async def test_registered_origin_gets_cors_headers_without_credentials(server, path):
    response = await server.client.get(path, headers={"Origin": "https://spa.example"})
    assert response.headers["access-control-allow-origin"] == "https://spa.example"
    assert "Origin" in response.headers["vary"]
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "https://spa.example.evil.example",
        "http://spa.example",
        "https://spa.example:8443",
        "https://spa.example/",
    ],
)
@pytest.mark.parametrize("path", CORS_PATHS)
async def test_other_origins_get_no_cors_headers(server, path, origin):
    response = await server.client.get(path, headers={"Origin": origin})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("path", ["/connect/userinfo", "/connect/token"])
async def test_preflight_from_an_unregistered_origin_is_refused(server, path):
    allowed = await server.client.options(
        path, headers={"Origin": "https://spa.example", "Access-Control-Request-Method": "POST"}
    )
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "https://spa.example"
    refused = await server.client.options(
        path, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers


@pytest.mark.parametrize("path", ["/connect/authorize", "/connect/introspect", "/connect/endsession"])
async def test_browser_and_api_only_endpoints_never_send_cors_headers(server, path):
    response = await server.client.get(path, headers={"Origin": "https://spa.example"})
    assert "access-control-allow-origin" not in response.headers


async def test_userinfo_subject_is_the_subject_of_the_id_token(server):
    tokens = await tokens_for(server.client)
    claims = (await server.client.get("/connect/userinfo", headers=bearer(tokens["access_token"]))).json()
    assert claims["sub"] == jwt_parts(tokens["id_token"])[1]["sub"] == "1"
