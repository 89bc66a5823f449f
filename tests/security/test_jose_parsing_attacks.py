"""security.md §1.7, JOSE and JSON parsing on every JWT input: token-type confusion between this server's own
tokens (access, ID, logout tokens, DPoP proofs, request objects), exact ``iss`` comparison, ``crit`` and deep
nesting where tests/validation/ only covers client assertions."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest

from identityserver._utils.b64 import b64url_encode
from identityserver.client.dpop import DPoPKey
from identityserver.crypto.jwk import public_jwk
from identityserver.crypto.jwt import encode_jws
from tests.security.support import assert_error_page, bearer, server_with, signed_like_this_server
from tests.support.browser import authorize_path, code_request, tokens_for
from tests.support.client_auth import assertion_form, client_assertion, raw_jws
from tests.support.data import RSA_CLIENT_KEY
from tests.support.server import Server, basic


@pytest.fixture
async def server():
    async with server_with() as srv:
        yield srv


async def end_session_with_hint(server: Server, hint: str):
    return await server.client.get("/connect/endsession?" + urlencode({"id_token_hint": hint}))


async def hint_is_refused(server: Server, hint: str) -> bool:
    response = await end_session_with_hint(server, hint)
    assert response.status_code == 302
    return response.headers["location"].startswith("/home/error")


async def id_token_like(server: Server, header: dict | None = None, **claims) -> str:
    now = int(server.clock.timestamp())
    values = {"sub": "1", "aud": "web", "auth_time": now, "sid": "S1", **claims}
    return await signed_like_this_server(server, header or {"typ": "JWT"}, **values)


# -- item 86: token-type confusion ------------------------------------------------------------------------------


async def test_genuine_id_token_is_accepted_as_id_token_hint(server):
    tokens = await tokens_for(server.client)
    assert not await hint_is_refused(server, tokens["id_token"])
    assert not await hint_is_refused(server, await id_token_like(server))


async def test_access_token_of_this_server_is_not_an_id_token_hint(server):
    tokens = await tokens_for(server.client)
    assert await hint_is_refused(server, tokens["access_token"])
    params, _ = code_request(id_token_hint=tokens["access_token"])
    response = await server.client.get(authorize_path(params))
    assert response.status_code == 302 and "error=invalid_request" in response.headers["location"]


@pytest.mark.parametrize("typ", ["logout+jwt", "LOGOUT+JWT", "dpop+jwt", "at+jwt", "application/at+jwt"])
async def test_jwt_typed_as_another_kind_of_token_is_not_an_id_token_hint(server, typ):
    assert await hint_is_refused(server, await id_token_like(server, {"typ": typ}))


async def test_logout_token_of_this_server_is_neither_an_id_token_hint_nor_an_access_token(server):
    client = await server.services.clients.find_client_by_id("web")
    logout_token = await server.services.backchannel_logout.create_logout_token(client, "1", "S1", server.issuer)
    assert await hint_is_refused(server, logout_token)
    assert (await server.client.get("/connect/userinfo", headers=bearer(logout_token))).status_code == 401


async def test_id_token_is_not_an_access_token_at_userinfo(server):
    tokens = await tokens_for(server.client)
    assert (await server.client.get("/connect/userinfo", headers=bearer(tokens["id_token"]))).status_code == 401


async def test_request_object_is_not_a_client_assertion(server):
    now = int(server.clock.timestamp())
    claims = {"iss": "m2m.jwt", "sub": "m2m.jwt", "aud": server.issuer, "exp": now + 60, "jti": "j1"}
    request_object = client_assertion(RSA_CLIENT_KEY, "RS256", claims, {"kid": "rsa1", "typ": "oauth-authz-req+jwt"})
    response = await server.token(assertion_form(request_object))
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


async def test_dpop_proof_is_not_an_id_token_hint(server):
    key = DPoPKey.generate(clock=server.clock)
    assert await hint_is_refused(server, key.create_proof("POST", f"{server.issuer}/connect/token"))


# -- item 87: iss compared by exact equality ------------------------------------------------------------------


@pytest.mark.parametrize(
    "iss",
    [
        "https://idp.example/",
        "https://idp.example.evil.example",
        "https://idp.exampl",
        "HTTPS://IDP.EXAMPLE",
        "https://idp.example/x",
        ["https://idp.example"],
        None,
    ],
)
async def test_id_token_hint_with_an_issuer_that_is_only_similar_is_refused(server, iss):
    assert await hint_is_refused(server, await id_token_like(server, iss=iss if iss is not None else ...))


@pytest.mark.parametrize("iss", ["https://idp.example/", "https://idp.example.evil.example", "https://idp.exampl"])
async def test_access_token_with_an_issuer_that_is_only_similar_is_refused_at_userinfo(server, iss):
    token = await signed_like_this_server(
        server,
        {"typ": "at+jwt"},
        iss=iss,
        sub="1",
        client_id="web",
        scope="openid",
        aud="https://idp.example/resources",
    )
    control = await signed_like_this_server(
        server, {"typ": "at+jwt"}, sub="1", client_id="web", scope="openid", aud="https://idp.example/resources"
    )
    assert (await server.client.get("/connect/userinfo", headers=bearer(control))).status_code == 200
    assert (await server.client.get("/connect/userinfo", headers=bearer(token))).status_code == 401


@pytest.mark.parametrize("aud", [{"web": True}, 7, ["web", 7], None])
async def test_id_token_hint_with_a_malformed_audience_is_refused(server, aud):
    assert await hint_is_refused(server, await id_token_like(server, aud=aud if aud is not None else ...))


# -- algorithm pinned to the key --------------------------------------------------------------------------------


async def test_id_token_hint_signed_with_hs256_over_the_published_public_key_is_refused(server):
    key = await server.services.key_material.get_signing_credentials()
    now = int(server.clock.timestamp())
    claims = {"iss": server.issuer, "sub": "1", "aud": "web", "auth_time": now, "exp": now + 60}
    signing_input = (
        b64url_encode(json.dumps({"alg": "HS256", "kid": key.id}).encode())
        + "."
        + b64url_encode(json.dumps(claims).encode())
    )
    for secret in (json.dumps(public_jwk(key.private_key)).encode(), key.id.encode()):
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert await hint_is_refused(server, f"{signing_input}.{b64url_encode(mac)}")


async def test_unsigned_id_token_hint_is_refused(server):
    now = int(server.clock.timestamp())
    claims = {"iss": server.issuer, "sub": "1", "aud": "web", "auth_time": now}
    for alg in ("none", "None", "NONE"):
        token = b64url_encode(json.dumps({"alg": alg}).encode()) + "." + b64url_encode(json.dumps(claims).encode())
        assert await hint_is_refused(server, token + ".")


# -- item 81: crit on every JWT input ----------------------------------------------------------------------------


async def test_crit_header_is_refused_in_an_id_token_hint(server):
    assert await hint_is_refused(server, await id_token_like(server, {"typ": "JWT", "crit": ["bork"], "bork": 1}))


async def test_crit_header_is_refused_in_a_request_object(server):
    now = int(server.clock.timestamp())
    params, _ = code_request("web.jar", "https://jar.example/cb", "openid api1")
    claims = {**params, "iss": "web.jar", "aud": server.issuer, "exp": now + 60}
    request = client_assertion(RSA_CLIENT_KEY, "RS256", claims, {"kid": "rsa1", "crit": ["exp"]})
    response = await server.client.get(
        authorize_path({"client_id": "web.jar", "request": request, "redirect_uri": "https://jar.example/cb"})
    )
    await assert_error_page(server, response)


async def test_crit_header_is_refused_in_a_dpop_proof(server):
    key = DPoPKey.generate()
    now = int(server.clock.timestamp())
    proof = encode_jws(
        {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.jwk, "crit": ["b64"], "b64": False},
        {"jti": "c1", "htm": "POST", "htu": f"{server.issuer}/connect/token", "iat": now},
        key.private_key,
    )
    response = await server.token(
        {"grant_type": "client_credentials", "scope": "api1"}, headers={**basic("m2m", "secret"), "DPoP": proof}
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_dpop_proof"


# -- item 85: deep nesting ------------------------------------------------------------------------------------------


async def test_deeply_nested_id_token_hint_is_refused_not_a_server_error(server):
    key = await server.services.key_material.get_signing_credentials()
    now = int(server.clock.timestamp())
    payload = json.dumps({"iss": server.issuer, "sub": "1", "aud": "web", "auth_time": now})[:-1]
    payload += ', "x": ' + "[" * 1100 + "]" * 1100 + "}"
    hint = raw_jws(json.dumps({"alg": key.algorithm, "kid": key.id}), payload, key.private_key, key.algorithm)
    assert len(hint) <= 4000
    assert await hint_is_refused(server, hint)


async def test_deeply_nested_request_object_shows_the_error_page(server):
    payload = '{"iss": "web.jar", "x": ' + "[" * 15_000 + "]" * 15_000 + "}"
    request = raw_jws(json.dumps({"alg": "RS256", "kid": "rsa1"}), payload, RSA_CLIENT_KEY, "RS256")
    response = await server.client.get(
        authorize_path({"client_id": "web.jar", "request": request, "redirect_uri": "https://jar.example/cb"})
    )
    await assert_error_page(server, response)


# -- item 82: length limits before parsing ----------------------------------------------------------------------


async def test_request_object_over_the_jwt_length_limit_shows_the_error_page(server):
    now = int(server.clock.timestamp())
    params, _ = code_request("web.jar", "https://jar.example/cb", "openid api1")
    claims = {**params, "iss": "web.jar", "aud": server.issuer, "exp": now + 60, "padding": "p" * 39_000}
    request = client_assertion(RSA_CLIENT_KEY, "RS256", claims, {"kid": "rsa1"})
    assert 51_200 < len(request) < 60_000
    response = await server.client.post(
        "/connect/authorize",
        data={"client_id": "web.jar", "request": request, "redirect_uri": "https://jar.example/cb"},
    )
    await assert_error_page(server, response)


async def test_id_token_hint_over_its_length_limit_is_refused(server):
    hint = await id_token_like(server, padding="p" * 4000)
    assert await hint_is_refused(server, hint)
    params, _ = code_request(id_token_hint=hint)
    response = await server.client.get(authorize_path(params))
    assert response.status_code == 302 and "error=invalid_request" in response.headers["location"]
