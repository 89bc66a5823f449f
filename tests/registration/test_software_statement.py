"""Software statements (RFC 7591 §2.3, §3.1.1, §3.2.2) over HTTP: a statement signed by a trusted issuer is verified
and its claims take precedence; forged, unsigned, expired or untrusted statements are refused and nothing is
registered; ``require_software_statement`` refuses registrations without one."""

from __future__ import annotations

import dataclasses
import json
import tomllib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from identityserver._utils.b64 import b64url_encode
from identityserver.configuration.loader import parse_configuration
from identityserver.crypto.jwk import public_jwk
from identityserver.crypto.jwt import encode_jws
from identityserver.options import DynamicClientRegistrationOptions
from tests.support.server import make_builder, running

CONFIG = """
[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
"""
ISSUER = "https://software.example"
KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
JWKS = json.dumps({"keys": [{**public_jwk(KEY.public_key()), "kid": "k1"}]})
CODE = {"redirect_uris": ["https://app.example/cb"], "scope": "openid", "client_name": "Sent in the clear"}


def statement(claims=None, key=KEY, header=None) -> str:
    payload = {"iss": ISSUER, "software_id": "4NRB1-0XZABZI9E6-5SM3R", "client_name": "Certified App", **(claims or {})}
    return encode_jws({"alg": "ES256", "kid": "k1", **(header or {})}, payload, key)


def builder(**options):
    b = make_builder(parse_configuration(tomllib.loads(CONFIG)))
    registration = DynamicClientRegistrationOptions(enabled=True, software_statement_issuers={ISSUER: JWKS}, **options)
    b.options = dataclasses.replace(b.options, dynamic_client_registration=registration)
    return b


@pytest.fixture
async def server():
    async with running(builder()) as srv:
        yield srv


async def register(server, body):
    return await server.client.post("/connect/register", json=body)


async def test_a_trusted_statement_is_verified_and_its_claims_take_precedence(server):
    signed = statement({"iat": int(server.clock.timestamp()), "exp": int(server.clock.timestamp()) + 3600})
    response = await register(server, {**CODE, "software_statement": signed})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["client_name"] == "Certified App" and body["software_statement"] == signed  # RFC 7591 §3.2.1
    client = await server.services.clients.find_client_by_id(body["client_id"])
    assert client.client_name == "Certified App"
    read = await server.client.get(
        body["registration_client_uri"], headers={"Authorization": f"Bearer {body['registration_access_token']}"}
    )
    assert read.json()["software_statement"] == signed


async def test_statement_claims_cannot_grant_more_than_the_policy(server):
    signed = statement({"grant_types": ["client_credentials"], "scope": "api1"})
    response = await register(server, {"software_statement": signed})
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"


def unsigned() -> str:
    header = b64url_encode(json.dumps({"alg": "none"}).encode())
    payload = b64url_encode(json.dumps({"iss": ISSUER, "client_name": "x"}).encode())
    return f"{header}.{payload}."


def with_alg(signed: str, alg: str) -> str:
    _, payload, signature = signed.split(".")
    return f"{b64url_encode(json.dumps({'alg': alg, 'kid': 'k1'}).encode())}.{payload}.{signature}"


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda now: statement(key=OTHER_KEY), "invalid_software_statement"),  # forged: not the issuer's key
        (lambda now: unsigned(), "invalid_software_statement"),
        (lambda now: statement({"exp": now - 3600}), "invalid_software_statement"),
        (lambda now: statement({"exp": "tomorrow"}), "invalid_software_statement"),
        (lambda now: statement({"iat": now + 3600}), "invalid_software_statement"),
        (lambda now: statement({"iss": "https://untrusted.example"}), "unapproved_software_statement"),
        (lambda now: statement({"iss": None}), "unapproved_software_statement"),
        (lambda now: with_alg(statement(), "HS256"), "invalid_software_statement"),  # algorithm confusion
        (lambda now: "not.a.jwt", "invalid_software_statement"),
        (lambda now: 42, "invalid_software_statement"),
    ],
)
async def test_bad_statements_are_refused_and_nothing_is_registered(server, make, error):
    response = await register(server, {**CODE, "software_statement": make(int(server.clock.timestamp()))})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error
    assert server.services.clients.all() == []


async def test_a_statement_is_required_when_configured():
    async with running(builder(require_software_statement=True)) as server:
        missing = await register(server, CODE)
        assert missing.status_code == 400 and missing.json()["error"] == "unapproved_software_statement"
        assert server.services.clients.all() == []
        ok = await register(server, {**CODE, "software_statement": statement()})
        assert ok.status_code == 201, ok.text
        body = ok.json()
        update = {"client_id": body["client_id"], "redirect_uris": ["https://app.example/cb"]}
        headers = {"Authorization": f"Bearer {body['registration_access_token']}"}
        refused = await server.client.put(body["registration_client_uri"], json=update, headers=headers)
        assert refused.status_code == 400 and refused.json()["error"] == "unapproved_software_statement"
        kept = await server.client.put(
            body["registration_client_uri"], json={**update, "software_statement": statement()}, headers=headers
        )
        assert kept.status_code == 200, kept.text
