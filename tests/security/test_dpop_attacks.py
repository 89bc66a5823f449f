"""security.md §1.5, DPoP proofs (RFC 9449 §4.3, §7, §8): the cases tests/dpop/ and tests/resource_server/ do not
cover (comma-joined and non-JWS headers, missing or symmetric ``jwk``, zero ECDSA signatures, tolerated extra
members, key sizes that would cost CPU, JSON edge cases, nonce characters, scheme case at userinfo, and what the
API-side validator writes into its challenge)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from identityserver._utils.b64 import b64url_encode
from identityserver.client.dpop import DPoPKey
from identityserver.crypto.jwk import public_jwk
from identityserver.crypto.jwt import encode_jws
from identityserver.resource_server import AccessTokenMiddleware, AccessTokenValidator, JwksCache, ResourceServerOptions
from tests.security.support import server_with
from tests.support.browser import obtain_code
from tests.support.client_auth import jwt_parts, raw_jws
from tests.support.server import basic

TOKEN_URL = "https://idp.example/connect/token"
USERINFO_URL = "https://idp.example/connect/userinfo"

NONCE_TOML = """
[[clients]]
client_id = "dpop.nonce"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
dpop_validation_mode = ["nonce"]
"""


@pytest.fixture
async def server():
    async with server_with(NONCE_TOML) as srv:
        yield srv


def proof(server, key: DPoPKey, header: dict[str, Any] | None = None, url: str = TOKEN_URL, **claims: Any) -> str:
    payload = {
        "jti": b64url_encode(__import__("os").urandom(12)),
        "htm": "POST",
        "htu": url,
        "iat": int(server.clock.timestamp()),
        **claims,
    }
    return encode_jws(
        {"typ": "dpop+jwt", "alg": key.alg, "jwk": key.jwk, **(header or {})},
        {k: v for k, v in payload.items() if v is not None},
        key.private_key,
    )


def raw_proof(server, key: DPoPKey, header: dict[str, Any], payload_json: str) -> str:
    return raw_jws(
        json.dumps({"typ": "dpop+jwt", "alg": key.alg, "jwk": key.jwk, **header}),
        payload_json,
        key.private_key,
        key.alg,
    )


async def client_credentials(server, dpop: str | None, client_id: str = "m2m") -> httpx.Response:
    headers = basic(client_id, "secret")
    if dpop is not None:
        headers["DPoP"] = dpop
    return await server.token({"grant_type": "client_credentials", "scope": "api1"}, headers=headers)


def assert_invalid(response: httpx.Response, error: str = "invalid_dpop_proof") -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error
    assert "access_token" not in response.json()


# -- item 55: header shape --------------------------------------------------------------------------------------


async def test_two_proofs_joined_by_a_comma_in_one_header_are_refused(server):
    key = DPoPKey.generate()
    assert_invalid(await client_credentials(server, f"{proof(server, key)}, {proof(server, key)}"))


@pytest.mark.parametrize(
    "value",
    [
        "not-a-jwt",
        "a.b",
        "a.b.c.d.e",
        "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d",
        "Bearer x.y.z",
    ],
)
async def test_a_proof_that_is_not_a_compact_jws_is_refused(server, value):
    assert_invalid(await client_credentials(server, value))


# -- items 56-58: typ, alg and jwk ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "jwk",
    [
        None,
        "a string",
        {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"},
        {"kty": "oct"},
        {"kty": "RSA", "e": "AQAB"},
        {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
        {"kty": "EC", "crv": "secp256k1", "x": "A" * 43, "y": "A" * 43},
        {"kty": "OKP", "crv": "X25519", "x": "A" * 43},
    ],
)
async def test_missing_symmetric_or_malformed_jwk_is_refused(server, jwk):
    key = DPoPKey.generate()
    token = proof(server, key, header={"jwk": jwk})
    if jwk is None:
        header, payload = jwt_parts(token)
        del header["jwk"]
        token = raw_jws(json.dumps(header), json.dumps(payload), key.private_key, key.alg)
    assert_invalid(await client_credentials(server, token))


# -- item 59: signatures --------------------------------------------------------------------------------------------


async def test_all_zero_ecdsa_signature_is_refused(server):
    key = DPoPKey.generate()
    signing_input = ".".join(proof(server, key).split(".")[:2])
    assert_invalid(await client_credentials(server, f"{signing_input}.{b64url_encode(bytes(64))}"))


async def test_proof_whose_jwk_is_another_curve_than_its_alg_is_refused(server):
    key = DPoPKey.generate()
    p384 = public_jwk(ec.generate_private_key(ec.SECP384R1()))
    assert_invalid(await client_credentials(server, proof(server, key, header={"jwk": p384})))


# -- item 65: unknown members, nbf and exp are tolerated -----------------------------------------------------------


async def test_extra_members_nbf_and_exp_are_accepted(server):
    key = DPoPKey.generate()
    now = int(server.clock.timestamp())
    token = proof(
        server,
        key,
        header={"kid": "k1", "x-extra": {"a": [1, 2]}},
        nbf=now,
        exp=now + 300,
        extra_claim="x",
        nested={"deep": True},
    )
    response = await client_credentials(server, token)
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "DPoP"
    assert jwt_parts(response.json()["access_token"])[1]["cnf"] == {"jkt": key.thumbprint}


# -- item 70: keys that would cost CPU -------------------------------------------------------------------------


def odd_modulus(bits: int) -> str:
    return b64url_encode(((1 << (bits - 1)) | 1 | (0xA5A5 << 8)).to_bytes(bits // 8, "big"))


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "RSA", "n": odd_modulus(16384), "e": "AQAB"},
        {"kty": "RSA", "n": odd_modulus(2048), "e": b64url_encode((1 << 4096 | 1).to_bytes(513, "big"))},
        {"kty": "RSA", "n": odd_modulus(2048), "e": b64url_encode((2).to_bytes(1, "big"))},
        {"kty": "RSA", "n": odd_modulus(2048), "e": b64url_encode((1).to_bytes(1, "big"))},
    ],
)
async def test_rsa_keys_of_absurd_size_or_exponent_are_refused_before_verification(server, jwk):
    key = DPoPKey.generate("RS256")
    assert_invalid(await client_credentials(server, proof(server, key, header={"jwk": jwk})))


# -- item 84-85: JSON edge cases in the proof ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload_tail",
    [
        '"iat": ' + "1" * 5000,
        '"iat": 1e400',
        '"iat": NaN',
        '"iat": %(now)d, "iat": %(now)d',
        '"iat": %(now)d, "nested": ' + "[" * 1200 + "]" * 1200,
        '"iat": %(now)d, "nested": ' + "[" * 64 + "]" * 64,  # 65 levels with the payload: past the server's limit
    ],
)
async def test_numeric_and_structural_json_edge_cases_in_the_proof_are_refused(server, payload_tail):
    key = DPoPKey.generate()
    now = int(server.clock.timestamp())
    tail = payload_tail % {"now": now} if "%(now)d" in payload_tail else payload_tail
    payload = f'{{"jti": "edge", "htm": "POST", "htu": "{TOKEN_URL}", {tail}}}'
    response = await client_credentials(server, raw_proof(server, key, {}, payload))
    assert_invalid(response)


# -- item 67: nonce characters -------------------------------------------------------------------------------------


async def test_server_nonce_uses_only_nqchar_characters(server):
    key = DPoPKey.generate()
    response = await client_credentials(server, proof(server, key), client_id="dpop.nonce")
    assert_invalid(response, "use_dpop_nonce")
    nonce = response.headers["dpop-nonce"]
    assert re.fullmatch(r"[\x21\x23-\x5B\x5D-\x7E]+", nonce), nonce
    again = await client_credentials(server, proof(server, key, nonce=nonce), client_id="dpop.nonce")
    assert again.status_code == 200, again.text


async def test_nonce_of_another_purpose_is_refused(server):
    """A sealed message of the UI (same key ring, other purpose) is not a DPoP nonce."""
    key = DPoPKey.generate()
    error_id = await server.services.messages.write("error", {"error": "x"})
    response = await client_credentials(server, proof(server, key, nonce=error_id), client_id="dpop.nonce")
    assert_invalid(response)
    assert response.headers["dpop-nonce"] != error_id


# -- items 72 and 98: the DPoP scheme at userinfo is case-insensitive -------------------------------------------


async def dpop_bound_user_token(server, key: DPoPKey) -> str:
    grant = await obtain_code(server.client, scope="openid profile")
    response = await server.client.post(
        "/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": grant.code,
            "redirect_uri": grant.request["redirect_uri"],
            "code_verifier": grant.verifier,
        },
        headers={**basic("web", "secret"), "DPoP": proof(server, key)},
    )
    assert response.status_code == 200 and response.json()["token_type"] == "DPoP", response.text
    return response.json()["access_token"]


@pytest.mark.parametrize("scheme", ["DPoP", "dpop", "DPOP"])
async def test_userinfo_accepts_the_dpop_scheme_in_any_case(server, scheme):
    key = DPoPKey.generate(clock=server.clock)
    token = await dpop_bound_user_token(server, key)
    response = await server.client.get(
        "/connect/userinfo",
        headers={"Authorization": f"{scheme} {token}", "DPoP": key.create_proof("GET", USERINFO_URL, token)},
    )
    assert response.status_code == 200, response.text
    assert response.json()["sub"] == "1"


async def test_userinfo_refuses_a_proof_made_for_the_token_endpoint(server):
    key = DPoPKey.generate(clock=server.clock)
    token = await dpop_bound_user_token(server, key)
    response = await server.client.get(
        "/connect/userinfo",
        headers={"Authorization": f"DPoP {token}", "DPoP": key.create_proof("POST", TOKEN_URL, token)},
    )
    assert response.status_code == 401
    assert "invalid_dpop_proof" in response.headers["www-authenticate"]


# -- the API-side validator (resource_server) ---------------------------------------------------------------------

CHALLENGE = re.compile(r'DPoP [A-Za-z_]+="[^"\\]*"(, [A-Za-z_]+="[^"\\]*")*(, Bearer)?')


@pytest.mark.parametrize("kty", ["\u20ac", 'x", error="insufficient_scope'])
async def test_api_answers_a_proof_with_a_strange_key_type_with_a_well_formed_401(server, kty):
    """RFC 6750 §3: the API's challenge never carries unescaped input (a 500 or injected parameters before)."""
    key = DPoPKey.generate(clock=server.clock)
    response = await client_credentials(server, proof(server, key))
    token = response.json()["access_token"]
    validator = AccessTokenValidator(
        ResourceServerOptions(server.issuer, audience="urn:api1"),
        JwksCache(server.issuer, http=server.client),
        clock=server.clock,
    )

    async def orders(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    api = AccessTokenMiddleware(orders, validator)
    transport = httpx.ASGITransport(app=api, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.example") as http:
        bad = proof(server, key, header={"jwk": {"kty": kty}}, url="https://api.example/orders", htm="GET")
        answer = await http.get("/orders", headers={"Authorization": f"DPoP {token}", "DPoP": bad})
    assert answer.status_code == 401, answer.status_code
    challenge = answer.headers["www-authenticate"]
    assert CHALLENGE.fullmatch(challenge), challenge
    params = re.findall(r'([A-Za-z_]+)="([^"]*)"', challenge)
    names = [name for name, _ in params]
    assert len(names) == len(set(names)) and dict(params)["error"] == "invalid_dpop_proof", challenge
