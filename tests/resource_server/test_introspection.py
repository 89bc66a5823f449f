"""Reference tokens at the API: validated at the in-process server's introspection endpoint (RFC 7662) with the
API resource's own secret, active answers cached for ``introspection_cache_duration`` (never past ``exp``),
inactive ones never; audience and scopes checked as for JWTs."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from identityserver.client.dpop import DPoPAuth, DPoPKey, DPoPTokenClient
from identityserver.configuration.loader import parse_configuration
from identityserver.resource_server import AccessTokenMiddleware, AccessTokenValidator, JwksCache, ResourceServerOptions
from tests.dpop.conftest import DPOP_TOML
from tests.support.clock import FakeClock
from tests.support.server import Server, basic, make_builder, running

API = "https://api.example"


@pytest.fixture
async def server():
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    async with running(make_builder(clock=clock)) as srv:
        yield srv


def api(server: Server, **options) -> httpx.AsyncClient:
    settings = {"audience": "urn:api1", "introspection_secret": "api1-secret", **options}
    validator = AccessTokenValidator(
        ResourceServerOptions(server.issuer, **settings),
        JwksCache(server.issuer, http=server.client),
        clock=server.clock,
    )

    async def orders(request: Request) -> JSONResponse:
        token = request.scope["identityserver.access_token"]
        return JSONResponse({"client_id": token.claims.get("client_id"), "scopes": token.scopes})

    app = AccessTokenMiddleware(Starlette(routes=[Route("/orders", orders)]), validator)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=API)


async def reference_token(server: Server, scope: str = "api1") -> str:
    response = await server.token(
        {"grant_type": "client_credentials", "scope": scope}, headers=basic("m2m.reference", "secret")
    )
    assert response.status_code == 200, response.text
    handle = response.json()["access_token"]
    assert handle.count(".") == 0  # a reference token, not a JWT
    return handle


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_reference_token_is_accepted_through_introspection(server):
    token = await reference_token(server)
    async with api(server) as client:
        response = await client.get("/orders", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {"client_id": "m2m.reference", "scopes": ["api1"]}


async def test_an_unknown_reference_token_is_inactive(server):
    async with api(server) as client:
        response = await client.get("/orders", headers=bearer("0" * 64 + "-1"))
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": "inactive token"}
    assert response.headers["www-authenticate"].startswith('Bearer realm="api", error="invalid_token"')


async def test_an_active_answer_is_reused_until_the_cache_expires_and_inactive_ones_never(server):
    token = await reference_token(server)
    async with api(server, introspection_cache_duration=30) as client:
        assert (await client.get("/orders", headers=bearer(token))).status_code == 200
        revoked = await server.client.post(
            "/connect/revocation", data={"token": token}, headers=basic("m2m.reference", "secret")
        )
        assert revoked.status_code == 200
        assert (await client.get("/orders", headers=bearer(token))).status_code == 200  # cached
        server.clock.advance(31)
        refused = await client.get("/orders", headers=bearer(token))
        assert refused.status_code == 401 and refused.json()["error_description"] == "inactive token"


async def test_without_cache_every_request_asks_the_issuer(server):
    token = await reference_token(server)
    async with api(server, introspection_cache_duration=0) as client:
        assert (await client.get("/orders", headers=bearer(token))).status_code == 200
        await server.client.post("/connect/revocation", data={"token": token}, headers=basic("m2m.reference", "secret"))
        assert (await client.get("/orders", headers=bearer(token))).status_code == 401


async def test_a_cached_answer_never_outlives_the_token(server):
    token = await reference_token(server)
    async with api(server, introspection_cache_duration=24 * 3600) as client:
        assert (await client.get("/orders", headers=bearer(token))).status_code == 200
        server.clock.advance(3600 + 1)  # the client's access_token_lifetime
        assert (await client.get("/orders", headers=bearer(token))).status_code == 401


async def test_the_audience_is_checked_as_for_jwts(server):
    token = await reference_token(server, "api1 api2")
    async with api(server, audience="urn:other", introspection_client_id="urn:api1") as client:
        response = await client.get("/orders", headers=bearer(token))
    assert response.status_code == 401 and response.json()["error_description"] == "wrong audience"


async def test_a_token_without_this_apis_scopes_is_inactive_for_it(server):
    token = await reference_token(server, "api2")
    async with api(server) as client:
        response = await client.get("/orders", headers=bearer(token))
    assert response.status_code == 401 and response.json()["error_description"] == "inactive token"


async def test_missing_required_scopes_are_403(server):
    token = await reference_token(server, "api1")
    async with api(server, required_scopes=["api1", "api1.admin"]) as client:
        response = await client.get("/orders", headers=bearer(token))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


async def test_a_wrong_api_secret_fails_closed(server):
    token = await reference_token(server)
    async with api(server, introspection_secret="wrong") as client:
        response = await client.get("/orders", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["error_description"] == "token introspection failed"


async def test_jwts_are_still_validated_locally(server):
    jwt = (
        await server.token({"grant_type": "client_credentials", "scope": "api1"}, headers=basic("m2m", "secret"))
    ).json()["access_token"]
    async with api(server, introspection_secret="wrong") as client:  # introspection would fail: not used
        response = await client.get("/orders", headers=bearer(jwt))
    assert response.status_code == 200, response.text


async def test_without_introspection_a_reference_token_is_refused(server):
    token = await reference_token(server)
    async with api(server, introspection_secret=None) as client:
        response = await client.get("/orders", headers=bearer(token))
    assert response.status_code == 401 and response.json()["error_description"] == "malformed token"


def test_introspection_needs_an_api_name():
    with pytest.raises(ValueError, match="introspection_client_id"):
        AccessTokenValidator(ResourceServerOptions("https://idp.example", introspection_secret="s"))


async def test_a_dpop_bound_reference_token_needs_its_proof():
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    builder = make_builder(parse_configuration(tomllib.loads(DPOP_TOML)), clock=clock)
    async with running(builder) as server:
        key = DPoPKey.generate()
        tokens = DPoPTokenClient(f"{server.issuer}/connect/token", "dpop.reference", "secret", key, http=server.client)
        await tokens.client_credentials("api1")
        assert tokens.access_token.count(".") == 0
        async with api(server) as client:
            with_proof = await client.get("/orders", auth=DPoPAuth(key, tokens.access_token))
            as_bearer = await client.get("/orders", headers=bearer(tokens.access_token))
    assert with_proof.status_code == 200, with_proof.text
    assert as_bearer.status_code == 401 and as_bearer.json()["error_description"] == "this token must be used with DPoP"
