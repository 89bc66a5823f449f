"""Canonical test configuration (clients, resources, users) as TOML, parsed by the real loader."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path

from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from identityserver.configuration.loader import Configuration, load_configuration, parse_configuration
from identityserver.crypto.jwk import public_jwk

#: alice's password ("alice") hashed once, with cheap argon2 parameters: verifying the server's default
#: parameters costs about half a second, on every server start and every login.
ALICE_PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("alice")

RSA_CLIENT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_CLIENT_KEY = ec.generate_private_key(ec.SECP256R1())


def _jwk(key, kid: str) -> str:
    data = public_jwk(key)
    data["kid"] = kid
    return json.dumps(data)


REFERENCE_SECRET = "reference-secret-0123456789"
REFERENCE_TOML = f"""
[[clients]]
client_id = "ref"
client_secrets = ["{REFERENCE_SECRET}"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
access_token_type = "reference"

[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
api_secrets = ["{REFERENCE_SECRET}"]
"""
"""A served process's smallest stored-grant configuration: client ``ref`` issues reference tokens for ``urn:api1``,
which introspects them (both with :data:`REFERENCE_SECRET`)."""


TEST_TOML = """
[[clients]]
client_id = "m2m"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1", "api2", "openid"]
claims = { tenant = "acme" }

[[clients]]
client_id = "m2m.post"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
token_endpoint_auth_method = "client_secret_post"

[[clients]]
client_id = "m2m.reference"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1", "api2"]
access_token_type = "reference"

[[clients]]
client_id = "m2m.expired"
client_secrets = [{ value = "secret", expiration = 2020-01-01T00:00:00Z }]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "m2m.disabled"
enabled = false
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "m2m.jwt"
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
token_endpoint_auth_method = "private_key_jwt"
client_secrets = [{ type = "JWK", value = '%(rsa_jwk)s' }, { type = "JWK", value = '%(ec_jwk)s' }]

[[clients]]
client_id = "web"
client_name = "Web app"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
post_logout_redirect_uris = ["https://web.example/signed-out"]
front_channel_logout_uri = "https://web.example/fc-logout"
allowed_scopes = ["openid", "profile", "email", "api1", "api2"]
allow_offline_access = true
require_consent = true

[[clients]]
client_id = "public"
require_client_secret = false
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://app.example/cb"]
allowed_scopes = ["openid", "api1"]

[[clients]]
client_id = "web.disabled"
enabled = false
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "api1"]

[[clients]]
client_id = "hybrid"
client_secrets = ["secret"]
allowed_grant_types = ["hybrid"]
allow_access_tokens_via_browser = true
redirect_uris = ["https://hybrid.example/cb"]
allowed_scopes = ["openid", "profile", "email", "api1"]
allow_offline_access = true

[[clients]]
client_id = "implicit"
require_client_secret = false
allowed_grant_types = ["implicit"]
allow_access_tokens_via_browser = true
redirect_uris = ["https://implicit.example/cb"]
allowed_scopes = ["openid", "profile", "email", "api1"]

[[clients]]
client_id = "implicit.nobrowser"
require_client_secret = false
allowed_grant_types = ["implicit"]
redirect_uris = ["https://implicit.example/cb"]
allowed_scopes = ["openid", "profile", "api1"]

[[clients]]
client_id = "web.reference"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "profile", "api1", "api2"]
allow_offline_access = true
access_token_type = "reference"

[[clients]]
client_id = "web.sliding"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "api1"]
allow_offline_access = true
refresh_token_expiration = "sliding"
sliding_refresh_token_lifetime = 1000
absolute_refresh_token_lifetime = 2500

[[clients]]
client_id = "web.reuse"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "api1"]
allow_offline_access = true
refresh_token_usage = "reuse"

[[clients]]
client_id = "web.nooffline"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "api1"]

[[clients]]
client_id = "web.jar"
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://jar.example/cb"]
allowed_scopes = ["openid", "api1"]
client_secrets = ["secret", { type = "JWK", value = '%(rsa_jwk)s' }]

[[clients]]
client_id = "native.plain"
require_client_secret = false
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://native.example/cb"]
allowed_scopes = ["openid", "api1"]
allow_plain_text_pkce = true

[[clients]]
client_id = "native.nopkce"
require_client_secret = false
require_pkce = false
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://native.example/cb", "https://native.example/cb?a=1"]
allowed_scopes = ["openid", "api1"]

[[clients]]
client_id = "ropc"
client_secrets = ["secret"]
allowed_grant_types = ["password"]
allowed_scopes = ["openid", "profile", "api1"]
allow_offline_access = true

[[api_scopes]]
name = "api1"
[[api_scopes]]
name = "api2"
[[api_scopes]]
name = "isolated.scope"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
api_secrets = ["api1-secret"]

[[api_resources]]
name = "urn:api2"
scopes = ["api2"]
api_secrets = ["api2-secret"]

[[users]]
subject_id = "1"
username = "alice"
password_hash = "%(alice_hash)s"
[users.claims]
name = "Alice Smith"
email = "alice@example.com"
email_verified = true
"""


_parsed: dict[str, Configuration] = {}


def test_configuration(extra: str = "") -> Configuration:
    """The canonical configuration, optionally with more TOML (extra clients, options) put first. Parsed once
    per ``extra``; every call returns a private deep copy that a test may change."""
    if extra not in _parsed:
        text = TEST_TOML % {
            "rsa_jwk": _jwk(RSA_CLIENT_KEY, "rsa1"),
            "ec_jwk": _jwk(EC_CLIENT_KEY, "ec1"),
            "alice_hash": ALICE_PASSWORD_HASH,
        }
        _parsed[extra] = parse_configuration(tomllib.loads(extra + text), "<tests>")
    return copy.deepcopy(_parsed[extra])


def load_file_text(tmp_path: Path, text: str) -> Configuration:
    """``text`` written as ``tmp_path/identityserver.toml`` and loaded as the server loads its file."""
    path = tmp_path / "identityserver.toml"
    path.write_text(text)
    return load_configuration(str(path))
