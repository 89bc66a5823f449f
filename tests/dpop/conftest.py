from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator

import pytest

from identityserver.configuration.loader import parse_configuration
from tests.support.server import Server, make_builder, running

DPOP_TOML = """
[[clients]]
client_id = "dpop.m2m"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "dpop.required"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
require_dpop = true

[[clients]]
client_id = "dpop.nonce"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
dpop_validation_mode = ["nonce"]

[[clients]]
client_id = "dpop.custom"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
dpop_validation_mode = []

[[clients]]
client_id = "dpop.reference"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
access_token_type = "reference"

[[clients]]
client_id = "dpop.web"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "profile", "api1"]
allow_offline_access = true

[[clients]]
client_id = "dpop.public"
require_client_secret = false
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://spa.example/cb"]
allowed_scopes = ["openid", "profile", "api1"]
allow_offline_access = true

[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
api_secrets = ["api1-secret"]

[[users]]
subject_id = "1"
username = "alice"
password = "alice"
[users.claims]
name = "Alice Smith"
"""


@pytest.fixture
async def dpop_server() -> AsyncIterator[Server]:
    async with running(make_builder(parse_configuration(tomllib.loads(DPOP_TOML)))) as srv:
        yield srv
