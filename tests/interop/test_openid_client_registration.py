"""Interoperability: panva's openid-client (Node) registers a client through its ``dynamicClientRegistration`` with an
initial access token whose policy allows client_credentials, uses it, then reads, updates and deletes the
registration at ``registration_client_uri`` with the registration access token (RFC 7591, RFC 7592)."""

from __future__ import annotations

import json

from identityserver.crypto.hashing import sha256_base64
from tests.interop.node import run_node
from tests.support.process import serve

TOKEN = "node-initial-access-token"
CONFIG = f"""
[options.dynamic_client_registration]
enabled = true

[options.dynamic_client_registration.initial_access_tokens.node]
token_hash = "{sha256_base64(TOKEN)}"
grant_types = ["client_credentials"]
scopes = ["api1"]

[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
"""


def test_openid_client_registers_reads_updates_and_deletes_a_client(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    with serve(config, tmp_path / "state") as issuer:
        completed = run_node("registration_management.mjs", issuer, TOKEN)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    client_id = result["client_id"]
    assert result["registration_client_uri"] == f"{issuer}/connect/register?client_id={client_id}"
    assert result["token"].lower() == "bearer"
    assert result["read"]["status"] == 200
    assert result["read"]["body"]["client_name"] == "Node app" and result["read"]["body"]["scope"] == "api1"
    assert result["updated"]["status"] == 200, result["updated"]
    assert result["updated"]["body"]["client_name"] == "Node app, renamed"
    assert "client_secret" not in result["updated"]["body"]  # the secret is kept unless rotation is asked
    assert result["token_after_update"].lower() == "bearer"
    assert result["deleted"] == 204
    assert result["read_after_delete"] == 401
    assert result["token_after_delete"] == "invalid_client"
