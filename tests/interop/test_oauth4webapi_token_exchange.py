"""Interoperability: token exchange (RFC 8693) through a third-party client library's generic grant call
(panva's oauth4webapi ``genericTokenEndpointRequest``, run with Node) against ``identityserver serve`` configured
from TOML: delegation with ``act``, ``issued_token_type``, and an audience outside policy refused."""

from __future__ import annotations

import base64
import json

from tests.interop.node import run_node
from tests.support.process import serve

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
CONFIG = f"""
[[clients]]
client_id = "app"
client_secrets = ["app-secret"]
allowed_grant_types = ["password"]
allowed_scopes = ["api1", "api2"]

[[clients]]
client_id = "backend"
client_secrets = ["backend-secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "gateway"
client_secrets = ["gateway-secret"]
allowed_grant_types = ["{EXCHANGE}"]
allowed_scopes = ["api1", "api2"]
[clients.token_exchange]
audiences = ["urn:api2"]
delegation = true
impersonation = false
max_delegation_depth = 2

[[api_scopes]]
name = "api1"
[[api_scopes]]
name = "api2"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
[[api_resources]]
name = "urn:api2"
scopes = ["api2"]

[[users]]
subject_id = "1"
username = "alice"
password = "alice"
"""


def test_oauth4webapi_exchanges_a_users_token_for_delegation(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    with serve(config, tmp_path / "state") as issuer:
        completed = run_node("token_exchange.mjs", issuer)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert EXCHANGE in result["grant_types_supported"]
    exchanged = result["exchanged"]
    assert exchanged["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert exchanged["token_type"].lower() == "bearer"
    assert exchanged["scope"] == "api2"
    claims = json.loads(base64.urlsafe_b64decode(exchanged["access_token"].split(".")[1] + "==="))
    assert claims["sub"] == "1"
    assert claims["aud"] == "urn:api2"
    assert claims["client_id"] == "gateway"
    assert claims["act"] == {"sub": "backend"}
    assert result["refused"] == {"error": "invalid_target", "status": 400}
