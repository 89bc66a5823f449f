"""The API-side module end to end: tokens from the in-process server, an API behind AccessTokenMiddleware and the
Starlette dependency, DPoP proofs made by the client helper (RFC 9449 §7, RFC 9068 §4)."""

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
from identityserver.models.client import DPoPTokenExpirationValidationMode
from identityserver.resource_server import AccessTokenMiddleware, AccessTokenValidator, JwksCache, ResourceServerOptions
from identityserver.resource_server.starlette import RequireAccessToken
from tests.dpop.conftest import DPOP_TOML
from tests.support.clock import FakeClock
from tests.support.server import basic, make_builder, running

API = "https://api.example"


def api_app(validator: AccessTokenValidator) -> httpx.AsyncClient:
    async def orders(request: Request) -> JSONResponse:
        token = request.scope["identityserver.access_token"]
        return JSONResponse({"sub": token.subject, "scheme": token.scheme})

    require = RequireAccessToken(validator, scopes=["api1"])

    async def admin(request: Request) -> JSONResponse:
        token = await require(request)
        return JSONResponse({"scopes": token.scopes})

    app = Starlette(routes=[Route("/orders", orders, methods=["GET", "POST"])])
    protected = AccessTokenMiddleware(app, validator)
    dependency_app = Starlette(routes=[Route("/admin", admin)])

    async def router(scope, receive, send):
        target = dependency_app if scope.get("path", "").startswith("/admin") else protected
        await target(scope, receive, send)

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=router), base_url=API)


@pytest.fixture
async def setup():
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    builder = make_builder(parse_configuration(tomllib.loads(DPOP_TOML)), clock=clock)
    async with running(builder) as server:
        jwks = JwksCache(server.issuer, http=server.client)
        validator = AccessTokenValidator(ResourceServerOptions(server.issuer, audience="urn:api1"), jwks, clock=clock)
        async with api_app(validator) as api:
            yield server, api, validator


async def test_dpop_bound_token_works_with_its_proof(setup):
    server, api, _ = setup
    key = DPoPKey.generate()
    tokens = DPoPTokenClient(f"{server.issuer}/connect/token", "dpop.m2m", "secret", key, http=server.client)
    await tokens.client_credentials("api1")
    response = await api.get("/orders", auth=DPoPAuth(key, tokens.access_token))
    assert response.status_code == 200, response.text
    assert response.json() == {"sub": "dpop.m2m", "scheme": "DPoP"}
    admin = await api.get("/admin", auth=DPoPAuth(key, tokens.access_token))
    assert admin.status_code == 200 and admin.json()["scopes"] == ["api1"]


async def test_dpop_bound_token_presented_as_bearer_is_rejected(setup):
    server, api, _ = setup
    key = DPoPKey.generate()
    tokens = DPoPTokenClient(f"{server.issuer}/connect/token", "dpop.m2m", "secret", key, http=server.client)
    await tokens.client_credentials("api1")
    response = await api.get("/orders", headers={"Authorization": f"Bearer {tokens.access_token}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_proof_with_wrong_ath_method_url_or_key_is_rejected(setup):
    server, api, _ = setup
    key, other = DPoPKey.generate(), DPoPKey.generate()
    tokens = DPoPTokenClient(f"{server.issuer}/connect/token", "dpop.m2m", "secret", key, http=server.client)
    await tokens.client_credentials("api1")
    token = tokens.access_token
    cases = {
        "ath": key.create_proof("GET", f"{API}/orders", "another-token"),
        "htm": key.create_proof("POST", f"{API}/orders", token),
        "htu": key.create_proof("GET", f"{API}/other", token),
        "key": other.create_proof("GET", f"{API}/orders", token),
    }
    for name, proof in cases.items():
        response = await api.get("/orders", headers={"Authorization": f"DPoP {token}", "DPoP": proof})
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"].startswith("DPoP "), name
        assert "algs=" in response.headers["www-authenticate"], name


async def test_replayed_proof_at_the_api_is_rejected(setup):
    server, api, _ = setup
    key = DPoPKey.generate()
    tokens = DPoPTokenClient(f"{server.issuer}/connect/token", "dpop.m2m", "secret", key, http=server.client)
    await tokens.client_credentials("api1")
    headers = {
        "Authorization": f"DPoP {tokens.access_token}",
        "DPoP": key.create_proof("GET", f"{API}/orders", tokens.access_token),
    }
    assert (await api.get("/orders", headers=headers)).status_code == 200
    again = await api.get("/orders", headers=headers)
    assert again.status_code == 401 and "invalid_dpop_proof" in again.headers["www-authenticate"]


async def test_nonce_challenge_is_answered_by_the_client_helper(setup):
    server, _, validator = setup
    validator.options.dpop_validation_mode = DPoPTokenExpirationValidationMode.NONCE
    async with api_app(validator) as api:
        key = DPoPKey.generate()
        tokens = DPoPTokenClient(f"{server.issuer}/connect/token", "dpop.m2m", "secret", key, http=server.client)
        await tokens.client_credentials("api1")
        bare = await api.get(
            "/orders",
            headers={
                "Authorization": f"DPoP {tokens.access_token}",
                "DPoP": key.create_proof("GET", f"{API}/orders", tokens.access_token),
            },
        )
        assert bare.status_code == 401 and "use_dpop_nonce" in bare.headers["www-authenticate"]
        assert bare.headers["dpop-nonce"]
        response = await api.get("/orders", auth=DPoPAuth(key, tokens.access_token))
        assert response.status_code == 200, response.text


async def test_client_helper_answers_the_token_endpoint_nonce_challenge(setup):
    server, _, _ = setup
    key = DPoPKey.generate()
    tokens = DPoPTokenClient(f"{server.issuer}/connect/token", "dpop.nonce", "secret", key, http=server.client)
    result = await tokens.client_credentials("api1")
    assert result["token_type"] == "DPoP"


async def test_plain_bearer_token_is_accepted_and_wrong_audience_refused(setup):
    server, api, validator = setup
    token = (
        await server.token({"grant_type": "client_credentials", "scope": "api1"}, headers=basic("dpop.m2m", "secret"))
    ).json()["access_token"]
    assert (await api.get("/orders", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    validator.options.audience = "urn:other"
    assert (await api.get("/orders", headers={"Authorization": f"Bearer {token}"})).status_code == 401


async def test_expired_token_is_refused(setup):
    server, api, _ = setup
    token = (
        await server.token({"grant_type": "client_credentials", "scope": "api1"}, headers=basic("dpop.m2m", "secret"))
    ).json()["access_token"]
    server.clock.advance(3600 + 120)
    response = await api.get("/orders", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "expired" in response.json()["error_description"]


async def test_missing_token_gets_a_challenge_without_error_code(setup):
    _, api, _ = setup
    response = await api.get("/orders")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_unknown_kid_triggers_a_jwks_refresh(setup):
    server, api, validator = setup
    token = (
        await server.token({"grant_type": "client_credentials", "scope": "api1"}, headers=basic("dpop.m2m", "secret"))
    ).json()["access_token"]
    assert (await api.get("/orders", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    validator.jwks._keys.clear()  # as if the issuer had rotated to a key this process has not seen
    validator.jwks._last_fetch = -1e9
    assert (await api.get("/orders", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_userinfo_accepts_dpop_with_a_valid_proof(setup):
    server, _, _ = setup
    from tests.dpop.test_dpop_token_endpoint import authorize, redeem

    key = DPoPKey.generate()
    code, verifier = await authorize(server, "dpop.web", "https://web.example/cb")
    proof = key.create_proof("POST", f"{server.issuer}/connect/token")
    body = (await redeem(server, "dpop.web", "https://web.example/cb", code, verifier, proof)).json()
    token = body["access_token"]
    url = f"{server.issuer}/connect/userinfo"
    ok = await server.client.get(
        "/connect/userinfo", headers={"Authorization": f"DPoP {token}", "DPoP": key.create_proof("GET", url, token)}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["sub"] == "1"
    bearer = await server.client.get("/connect/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 401 and "invalid_token" in bearer.headers["www-authenticate"]
    bad_ath = await server.client.get(
        "/connect/userinfo", headers={"Authorization": f"DPoP {token}", "DPoP": key.create_proof("GET", url, "other")}
    )
    assert bad_ath.status_code == 401
    assert bad_ath.headers["www-authenticate"].startswith('DPoP error="invalid_dpop_proof"')
    wrong_key = await server.client.get(
        "/connect/userinfo",
        headers={"Authorization": f"DPoP {token}", "DPoP": DPoPKey.generate().create_proof("GET", url, token)},
    )
    assert wrong_key.status_code == 401 and 'error="invalid_token"' in wrong_key.headers["www-authenticate"]
