"""security.md §1.16 item 133, advertised = enforced: every algorithm discovery lists in
``request_object_signing_alg_values_supported`` verifies a request object, symmetric ones are not listed, and the
flags for unsupported features are false. (Issuer, JWKS hygiene and key rotation are covered by
tests/endpoints/test_discovery.py and tests/services/test_key_manager.py.)"""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from identityserver.crypto.jwk import public_jwk
from tests.security.support import assert_client_redirect, server_with
from tests.support.browser import Browser, authorize_path, pkce_pair, sign_in
from tests.support.client_auth import client_assertion

KEYS = {
    "RS": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "ES256": ec.generate_private_key(ec.SECP256R1()),
    "ES384": ec.generate_private_key(ec.SECP384R1()),
    "ES512": ec.generate_private_key(ec.SECP521R1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate(),
}


def key_for(alg: str):
    return KEYS["RS"] if alg.startswith(("RS", "PS")) else KEYS[alg]


def jar_toml() -> str:
    jwks = [json.dumps({**public_jwk(key), "kid": name}) for name, key in KEYS.items()]
    secrets = ", ".join(f"{{ type = \"JWK\", value = '{jwk}' }}" for jwk in jwks)
    return f"""
[[clients]]
client_id = "jar.all"
require_client_secret = false
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://jar.example/cb"]
allowed_scopes = ["openid", "api1"]
client_secrets = [{secrets}]
"""


@pytest.fixture
async def server():
    async with server_with(jar_toml()) as srv:
        yield srv


async def test_every_advertised_request_object_algorithm_verifies_and_none_is_symmetric(server):
    doc = (await server.client.get("/.well-known/openid-configuration")).json()
    algorithms = doc["request_object_signing_alg_values_supported"]
    assert algorithms and not any(a.startswith("HS") or a == "none" for a in algorithms)
    browser = Browser(server.client)
    await sign_in(browser)
    now = int(server.clock.timestamp())
    for alg in algorithms:
        _, challenge = pkce_pair()
        claims = {
            "iss": "jar.all",
            "aud": server.issuer,
            "exp": now + 60,
            "client_id": "jar.all",
            "response_type": "code",
            "redirect_uri": "https://jar.example/cb",
            "scope": "openid api1",
            "state": alg,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        request = client_assertion(key_for(alg), alg, claims)
        response = await browser.get(authorize_path({"client_id": "jar.all", "request": request}))
        returned = assert_client_redirect(server, response, "https://jar.example/cb")
        assert "code" in returned and returned["state"] == alg, (alg, returned)


async def test_flags_of_unsupported_features_are_false(server):
    doc = (await server.client.get("/.well-known/openid-configuration")).json()
    assert doc["request_uri_parameter_supported"] is False
    assert doc["claims_parameter_supported"] is True  # OIDC Core §5.5 (docs/claims-parameter.md)
    assert doc["require_pushed_authorization_requests"] is False  # PAR is served (docs/pushed-authorization.md)
    assert "tls_client_certificate_bound_access_tokens" not in doc
