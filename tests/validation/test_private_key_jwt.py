"""``private_key_jwt`` client authentication (RFC 7523 §3, OIDC Core §9; duende §1.3; security.md items 76-79,
81-84): signature with a key from the client's JWK secrets only, claims, audience, replay and JOSE edge cases."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from identityserver._utils.b64 import b64url_encode
from identityserver.crypto.jwk import public_jwk
from tests.support.client_auth import (
    ASSERTION_TYPE,
    assertion_claims,
    assertion_form,
    client_assertion,
    configuration,
    jwt_parts,
    raw_jws,
)
from tests.support.data import EC_CLIENT_KEY, RSA_CLIENT_KEY
from tests.support.quick import quick_builder
from tests.support.server import Server, basic, running

ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


async def authenticate(server: Server, assertion: str, **extra: str):
    return await server.token(assertion_form(assertion, scope="api1", **extra))


def assert_accepted(response) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["access_token"]


def assert_refused(response) -> None:
    assert response.status_code in (400, 401), response.text
    assert response.json()["error"] == "invalid_client"
    assert "access_token" not in response.json()


def hs256(signing_input: str, secret: bytes) -> str:
    return b64url_encode(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


def unsigned(header: dict, claims: dict, signature: str = "") -> str:
    return f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(json.dumps(claims).encode())}.{signature}"


# -- accepted ---------------------------------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with running(await quick_builder()) as srv:
        yield srv


@pytest.mark.parametrize(
    ("key", "alg", "kid"),
    [
        (RSA_CLIENT_KEY, "RS256", "rsa1"),
        (RSA_CLIENT_KEY, "RS256", None),
        (RSA_CLIENT_KEY, "PS256", "rsa1"),
        (EC_CLIENT_KEY, "ES256", "ec1"),
        (EC_CLIENT_KEY, "ES256", None),
    ],
)
async def test_assertion_signed_with_a_registered_key_is_accepted(server, key, alg, kid):
    header = {"kid": kid} if kid else {}
    response = await authenticate(server, client_assertion(key, alg, assertion_claims(server), header))
    assert_accepted(response)
    assert jwt_parts(response.json()["access_token"])[1]["client_id"] == "m2m.jwt"


async def test_assertion_with_the_issuer_as_audience_is_accepted(server):
    claims = assertion_claims(server, aud=server.issuer)
    assert_accepted(await authenticate(server, client_assertion(RSA_CLIENT_KEY, "RS256", claims)))


async def test_assertion_with_a_matching_client_id_parameter_is_accepted(server):
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server))
    assert_accepted(await authenticate(server, assertion, client_id="m2m.jwt"))


@pytest.mark.parametrize("typ", ["JWT", "client-authentication+jwt"])
async def test_assertion_typed_as_a_jwt_or_client_authentication_jwt_is_accepted(server, typ):
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server), {"typ": typ})
    assert_accepted(await authenticate(server, assertion))


async def test_exp_within_the_five_minute_clock_skew_is_accepted(server):
    claims = assertion_claims(server, exp=int(server.clock.timestamp()) - 240)
    assert_accepted(await authenticate(server, client_assertion(RSA_CLIENT_KEY, "RS256", claims)))


# -- audience (CVE-2025-27370: one string, this server) ------------------------------------------------


@pytest.mark.parametrize(
    "aud",
    [
        ["https://idp.example/connect/token"],
        ["https://idp.example"],
        ["https://idp.example/connect/token", "https://other.example/connect/token"],
        "https://other.example/connect/token",
        "https://other.example",
        "https://idp.example/",
        "https://idp.example.evil",
        "https://idp.example/connect/token/",
        "https://idp.example/connect/introspect",
        "HTTPS://IDP.EXAMPLE/connect/token",
        "",
        None,
        42,
        {"aud": "https://idp.example"},
        ...,
    ],
)
async def test_assertion_audience_other_than_one_string_naming_this_server_is_refused(server, aud):
    claims = assertion_claims(server, aud=aud)
    assert_refused(await authenticate(server, client_assertion(RSA_CLIENT_KEY, "RS256", claims)))


# -- claims ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": ...},
        {"exp": -1},
        {"exp": "EXPIRED_BY_600"},
        {"nbf": "IN_AN_HOUR"},
        {"iat": "IN_AN_HOUR"},
        {"iss": "m2m"},
        {"iss": ...},
        {"iss": ["m2m.jwt"]},
        {"sub": "m2m"},
        {"sub": ...},
        {"jti": ...},
        {"jti": ""},
        {"jti": 12345},
        {"jti": "x" * 1001},
    ],
    ids=str,
)
async def test_assertion_with_missing_or_wrong_claims_is_refused(server, overrides):
    now = int(server.clock.timestamp())
    resolved = {
        name: {"EXPIRED_BY_600": now - 600, "IN_AN_HOUR": now + 3600}.get(value, value)
        if isinstance(value, str)
        else value
        for name, value in overrides.items()
    }
    claims = assertion_claims(server)
    claims.update(resolved)
    claims = {name: value for name, value in claims.items() if value is not ...}
    assert_refused(await authenticate(server, client_assertion(RSA_CLIENT_KEY, "RS256", claims)))


async def test_client_id_parameter_other_than_the_assertion_subject_is_refused(server):
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server))
    assert_refused(await authenticate(server, assertion, client_id="m2m"))


async def test_replayed_assertion_is_refused(server):
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server))
    assert_accepted(await authenticate(server, assertion))
    assert_refused(await authenticate(server, assertion))


async def test_new_assertion_reusing_a_jti_is_refused(server):
    first = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server, jti="once"))
    second = client_assertion(EC_CLIENT_KEY, "ES256", assertion_claims(server, jti="once", exp=9_999_999_999))
    assert_accepted(await authenticate(server, first))
    assert_refused(await authenticate(server, second))


async def test_assertion_replayed_at_the_revocation_endpoint_is_refused(server):
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server))
    assert_accepted(await authenticate(server, assertion))
    form = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion, "token": "x"}
    response = await server.client.post("/connect/revocation", data=form)
    assert response.status_code == 401


# -- algorithm and key confusion (RFC 8725 §3.1, §3.10) ------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
async def test_unsigned_assertion_is_refused(server, alg):
    assert_refused(await authenticate(server, unsigned({"alg": alg}, assertion_claims(server))))


async def test_hs256_assertion_keyed_with_the_public_key_pem_is_refused(server):
    pem = RSA_CLIENT_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = unsigned({"alg": "HS256"}, assertion_claims(server)).rstrip(".")
    assert_refused(await authenticate(server, f"{signing_input}.{hs256(signing_input, pem)}"))


async def test_hs256_assertion_keyed_with_the_registered_jwk_text_is_refused(server):
    jwk_text = json.dumps({**public_jwk(RSA_CLIENT_KEY), "kid": "rsa1"}).encode()
    signing_input = unsigned({"alg": "HS256", "kid": "rsa1"}, assertion_claims(server)).rstrip(".")
    assert_refused(await authenticate(server, f"{signing_input}.{hs256(signing_input, jwk_text)}"))


async def test_embedded_jwk_header_is_ignored_for_verification(server):
    attacker_jwk = public_jwk(ATTACKER_KEY)
    forged = client_assertion(ATTACKER_KEY, "RS256", assertion_claims(server), {"jwk": attacker_jwk})
    assert_refused(await authenticate(server, forged))
    # the registered key still verifies, whatever the header claims
    genuine = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server), {"jwk": attacker_jwk})
    assert_accepted(await authenticate(server, genuine))


@pytest.mark.parametrize(
    "header",
    [
        {"jku": "https://attacker.example/jwks"},
        {"x5u": "https://attacker.example/cert"},
        {"kid": "rsa1"},
        {"kid": "../../etc/passwd"},
        {"kid": "' OR 1=1 --"},
    ],
)
async def test_assertion_signed_by_an_unregistered_key_is_refused(server, header):
    forged = client_assertion(ATTACKER_KEY, "RS256", assertion_claims(server), header)
    assert_refused(await authenticate(server, forged))


async def test_key_registered_for_another_client_does_not_authenticate_this_one():
    other_jwk = json.dumps({**public_jwk(ATTACKER_KEY), "kid": "other"})
    mine_jwk = json.dumps({**public_jwk(RSA_CLIENT_KEY), "kid": "mine"})
    config = configuration(
        f"""
[[clients]]
client_id = "mine"
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
client_secrets = [{{ type = "JWK", value = '{mine_jwk}' }}]

[[clients]]
client_id = "other"
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
client_secrets = [{{ type = "JWK", value = '{other_jwk}' }}]

[[api_scopes]]
name = "api1"
"""
    )
    async with running(await quick_builder(config)) as srv:
        forged = client_assertion(ATTACKER_KEY, "RS256", assertion_claims(srv, client_id="mine"), {"kid": "other"})
        assert_refused(await authenticate(srv, forged))
        genuine = client_assertion(ATTACKER_KEY, "RS256", assertion_claims(srv, client_id="other"), {"kid": "other"})
        assert_accepted(await authenticate(srv, genuine))


async def test_algorithm_that_does_not_match_the_key_type_is_refused(server):
    # an EC signature announced as RS256 and an RSA signature announced as ES256
    claims = assertion_claims(server)
    ec_as_rs = raw_jws('{"alg":"ES256"}', json.dumps(claims), EC_CLIENT_KEY, "ES256")
    header = b64url_encode(b'{"alg":"RS256"}')
    assert_refused(await authenticate(server, header + ec_as_rs[ec_as_rs.index(".") :]))
    rs_as_es = raw_jws('{"alg":"RS256"}', json.dumps(assertion_claims(server)), RSA_CLIENT_KEY, "RS256")
    header = b64url_encode(b'{"alg":"ES256"}')
    assert_refused(await authenticate(server, header + rs_as_es[rs_as_es.index(".") :]))


async def test_ecdsa_signature_of_zeros_is_refused(server):
    signing_input = unsigned({"alg": "ES256", "kid": "ec1"}, assertion_claims(server)).rstrip(".")
    assert_refused(await authenticate(server, f"{signing_input}.{b64url_encode(bytes(64))}"))


async def test_assertion_with_a_tampered_payload_is_refused(server):
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server))
    header, _, signature = assertion.split(".")
    payload = b64url_encode(json.dumps(assertion_claims(server, sub="m2m.jwt", extra="x")).encode())
    assert_refused(await authenticate(server, f"{header}.{payload}.{signature}"))


@pytest.mark.parametrize("typ", ["dpop+jwt", "at+jwt", "logout+jwt", 7])
async def test_assertion_typed_as_another_kind_of_token_is_refused(server, typ):
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server), {"typ": typ})
    assert_refused(await authenticate(server, assertion))


async def test_access_token_of_this_server_is_not_a_client_assertion(server):
    token = (await server.token({"grant_type": "client_credentials"}, headers=basic("m2m", "secret"))).json()
    assert_refused(await authenticate(server, token["access_token"], client_id="m2m"))


async def test_expired_jwk_secret_no_longer_verifies():
    jwk_text = json.dumps(public_jwk(RSA_CLIENT_KEY))
    config = configuration(
        f"""
[[clients]]
client_id = "old.jwt"
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
client_secrets = [{{ type = "JWK", value = '{jwk_text}', expiration = 2020-01-01T00:00:00Z }}]

[[api_scopes]]
name = "api1"
"""
    )
    async with running(await quick_builder(config)) as srv:
        claims = assertion_claims(srv, client_id="old.jwt")
        assert_refused(await authenticate(srv, client_assertion(RSA_CLIENT_KEY, "RS256", claims)))


# -- JOSE parsing (RFC 7515 §4, §4.1.11; RFC 7519 §2) --------------------------------------------------


async def test_crit_header_is_refused_even_when_correctly_signed(server):
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server), {"crit": ["bork"], "bork": 1})
    assert_refused(await authenticate(server, assertion))


async def test_duplicate_member_in_the_payload_is_refused(server):
    claims = assertion_claims(server)
    payload = json.dumps(claims)[:-1] + ', "exp": 99999999999}'
    assert_refused(await authenticate(server, raw_jws('{"alg":"RS256"}', payload, RSA_CLIENT_KEY, "RS256")))


async def test_duplicate_member_in_the_header_is_refused(server):
    header = '{"alg":"none","alg":"RS256"}'
    payload = json.dumps(assertion_claims(server))
    assert_refused(await authenticate(server, raw_jws(header, payload, RSA_CLIENT_KEY, "RS256")))


@pytest.mark.parametrize(
    "literal",
    ["NaN", "Infinity", "-Infinity", "1e400", "9" * 5000, "9" * 20, '"%d"', "true", "null", "[%d]", "{}"],
)
@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
async def test_numeric_date_that_is_not_a_finite_reasonable_number_is_refused(server, claim, literal):
    claims = assertion_claims(server)
    claims[claim] = "__VALUE__"
    value = literal % (int(server.clock.timestamp()) + 60) if "%d" in literal else literal
    payload = json.dumps(claims).replace('"__VALUE__"', value)
    assert_refused(await authenticate(server, raw_jws('{"alg":"RS256"}', payload, RSA_CLIENT_KEY, "RS256")))


async def test_deeply_nested_payload_is_refused(server):
    payload = '{"x":' + "[" * 5000 + "]" * 5000 + "}"
    assert_refused(await authenticate(server, raw_jws('{"alg":"RS256"}', payload, RSA_CLIENT_KEY, "RS256")))


@pytest.mark.parametrize("payload", ["[]", '"claims"', "42", "not json", "\udcff"])
async def test_payload_that_is_not_a_json_object_is_refused(server, payload):
    header = b64url_encode(b'{"alg":"RS256"}')
    body = b64url_encode(payload.encode("utf-8", "surrogatepass"))
    assertion = f"{header}.{body}.{b64url_encode(b'x' * 256)}"
    assert_refused(await authenticate(server, assertion, client_id="m2m.jwt"))


async def test_oversized_assertion_is_refused_before_it_is_parsed(server):
    claims = assertion_claims(server, padding="x" * 40000)
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", claims)
    assert 51200 < len(assertion) < 60000
    assert_refused(await authenticate(server, assertion))


async def test_assertion_with_a_trailing_newline_is_refused(server):
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server))
    assert_refused(await authenticate(server, assertion + "\n"))


@pytest.mark.parametrize(
    "assertion",
    ["", "a", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30.", "e30=.e30.e30", ".."],
)
async def test_malformed_assertion_is_refused(server, assertion):
    response = await authenticate(server, assertion, client_id="m2m.jwt")
    assert_refused(response)


async def test_wrong_client_assertion_type_is_refused(server):
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server))
    form = assertion_form(assertion, scope="api1")
    form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
    assert_refused(await server.token(form))


async def test_ec_key_on_another_curve_cannot_sign_es256(server):
    p384 = ec.generate_private_key(ec.SECP384R1())
    forged = client_assertion(p384, "ES384", assertion_claims(server), {"kid": "ec1"})
    assert_refused(await authenticate(server, forged))
