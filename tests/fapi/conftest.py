"""FAPI 2.0 and JARM test servers: a server signing with RS256 (default) and ES256, FAPI 2.0 clients that
authenticate with ``private_key_jwt`` (the EC test key), and a plain client that asks for signed responses."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from identityserver.client.dpop import DPoPKey
from identityserver.crypto.jwk import PrivateKey, public_jwk
from identityserver.crypto.jwt import encode_jws
from tests.support.browser import pkce_pair
from tests.support.client_auth import ASSERTION_TYPE
from tests.support.data import EC_CLIENT_KEY, RSA_CLIENT_KEY, test_configuration
from tests.support.server import Server, make_builder, running

FAPI_CB = "https://fapi.example/cb"
JARM_CB = "https://jarm.example/cb"


def _jwk(key: PrivateKey, kid: str) -> str:
    return json.dumps({**public_jwk(key), "kid": kid})


FAPI_TOML = f"""
[options.key_management]
signing_algorithms = ["RS256", "ES256"]

[[clients]]
client_id = "fapi"
client_secrets = [{{ type = "JWK", value = '{_jwk(EC_CLIENT_KEY, "ec1")}' }}, "secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{FAPI_CB}", "http://fapi.example/cb"]
allowed_scopes = ["openid", "profile", "api1"]
allow_offline_access = true
authorization_code_lifetime = 300
refresh_token_usage = "one_time_only"
security_profile = "fapi2"

[[clients]]
client_id = "fapi.rsa"
client_secrets = [{{ type = "JWK", value = '{_jwk(RSA_CLIENT_KEY, "rsa1")}' }}]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{FAPI_CB}"]
allowed_scopes = ["openid", "api1"]
security_profile = "fapi2"

[[clients]]
client_id = "fapi.ms"
client_secrets = [{{ type = "JWK", value = '{_jwk(EC_CLIENT_KEY, "ec1")}' }}]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{FAPI_CB}"]
allowed_scopes = ["openid", "api1"]
security_profile = "fapi2_message_signing"

[[clients]]
client_id = "jarm"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{JARM_CB}"]
allowed_scopes = ["openid", "api1"]
authorization_signed_response_alg = "ES256"

[[clients]]
client_id = "jarm.default"
client_secrets = ["secret"]
allowed_grant_types = ["hybrid"]
redirect_uris = ["{JARM_CB}"]
allowed_scopes = ["openid", "api1"]
"""


@pytest.fixture
async def fapi_server() -> AsyncIterator[Server]:
    async with running(make_builder(test_configuration(FAPI_TOML))) as server:
        yield server


def client_assertion(server: Server, client_id: str = "fapi", key: PrivateKey = EC_CLIENT_KEY, **claims: Any) -> str:
    """A ``private_key_jwt`` assertion (RFC 7523 §3) with FAPI 2.0's audience: the issuer, as a string."""
    alg = claims.pop("alg", None) or ("ES256" if key is EC_CLIENT_KEY else "PS256")
    now = int(server.clock.timestamp())
    body = {"iss": client_id, "sub": client_id, "aud": server.issuer, "iat": now, "exp": now + 60}
    body.update(jti=uuid.uuid4().hex, **claims)
    return encode_jws({"alg": alg, "kid": "ec1" if key is EC_CLIENT_KEY else "rsa1"}, body, key)


def assertion_fields(server: Server, client_id: str = "fapi", **claims: Any) -> dict[str, str]:
    key = RSA_CLIENT_KEY if client_id == "fapi.rsa" else EC_CLIENT_KEY
    return {
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(server, client_id, key, **claims),
    }


def request_object(server: Server, client_id: str, params: dict[str, str], **claims: Any) -> str:
    """A request object (RFC 9101 §4) signed ES256 with the EC test key; ``claims`` override its registered
    claims (``None`` removes one)."""
    now = int(server.clock.timestamp())
    body: dict[str, Any] = {"iss": client_id, "aud": server.issuer, "nbf": now, "exp": now + 300, **params}
    body["jti"] = secrets.token_urlsafe(12)
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return encode_jws({"alg": "ES256", "kid": "ec1", "typ": "oauth-authz-req+jwt"}, body, EC_CLIENT_KEY)


def fapi_parameters(client_id: str = "fapi", **extra: str) -> tuple[dict[str, str], str]:
    """Authorization request parameters of a FAPI 2.0 code flow (PKCE S256) and the PKCE verifier."""
    verifier, challenge = pkce_pair()
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": FAPI_CB,
        "scope": "openid api1",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return params, verifier


async def push(
    server: Server,
    params: dict[str, str],
    client_id: str = "fapi",
    dpop: DPoPKey | None = None,
    auth: dict[str, str] | None = None,
) -> httpx.Response:
    """``POST /connect/par`` authenticated with ``private_key_jwt`` unless ``auth`` replaces it."""
    headers = {"DPoP": dpop.create_proof("POST", server.issuer + "/connect/par")} if dpop else {}
    fields = auth if auth is not None else assertion_fields(server, client_id)
    return await server.client.post("/connect/par", data={**params, **fields}, headers=headers)
