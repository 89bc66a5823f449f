"""security.md §1.6, client authentication: the cases tests/validation/ does not cover (key-location headers that
point at the attacker's key, hostile ``kid`` values, a client assertion sent many times in parallel)."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from identityserver.crypto.jwk import public_jwk
from tests.security.support import server_with
from tests.support.client_auth import assertion_claims, assertion_form, client_assertion
from tests.support.concurrency import interleaving
from tests.support.data import RSA_CLIENT_KEY

ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
async def server():
    async with server_with() as srv:
        yield srv


def assert_invalid_client(response) -> None:
    assert response.status_code in (400, 401), response.text
    assert response.json()["error"] == "invalid_client"
    assert "access_token" not in response.json()


@pytest.mark.parametrize(
    "header",
    [
        {"jku": "https://attacker.example/jwks.json", "kid": "attacker"},
        {"x5u": "https://attacker.example/cert.pem"},
        {"x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]},
        {"jwk": public_jwk(ATTACKER_KEY), "kid": "rsa1"},
        {"kid": "rsa1"},
        {"kid": "../../../../etc/passwd"},
        {"kid": "' OR '1'='1"},
        {"kid": "ec1"},
    ],
)
async def test_assertion_signed_by_an_attacker_key_is_refused_whatever_the_key_headers_say(server, header):
    assertion = client_assertion(ATTACKER_KEY, "RS256", assertion_claims(server), header)
    assert_invalid_client(await server.token(assertion_form(assertion)))


@pytest.mark.parametrize("kid", ["../../../../etc/passwd", "' OR '1'='1", "unknown", ""])
async def test_hostile_kid_on_a_genuine_assertion_does_not_cause_an_error(server, kid):
    """A kid that names no registered key falls back to trying the client's keys: no lookup by kid elsewhere."""
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server), {"kid": kid})
    response = await server.token(assertion_form(assertion))
    assert response.status_code == 200, response.text


async def test_assertion_of_one_client_presented_for_another_is_refused(server):
    """web.jar shares the RSA key of m2m.jwt in the test data: the assertion's iss/sub bind it to m2m.jwt."""
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server), {"kid": "rsa1"})
    response = await server.token(assertion_form(assertion, client_id="web.jar"))
    assert_invalid_client(response)


async def test_one_assertion_sent_twenty_times_at_once_authenticates_once():
    async with server_with(configure=interleaving) as server:
        assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server), {"kid": "rsa1"})
        responses = await asyncio.gather(*(server.token(assertion_form(assertion)) for _ in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1, statuses
    assert all(r.json()["error"] == "invalid_client" for r in responses if r.status_code != 200)
