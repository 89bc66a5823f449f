"""Interoperability: an independent DPoP client (panva's oauth4webapi, run with Node) obtains a DPoP-bound token
from `identityserver serve` (answering its nonce challenge) and uses it at an API protected by
identityserver.resource_server, which challenges with its own nonce (RFC 9449 §4, §5, §7, §8)."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

from tests.interop.node import ensure_node_modules
from tests.support.process import serve, uvicorn_app

HERE = Path(__file__).parent
CONFIG = """
[[clients]]
client_id = "node"
client_secrets = ["node-secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
require_dpop = true
dpop_validation_mode = ["iat", "nonce"]

[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
"""


def test_oauth4webapi_obtains_and_uses_a_dpop_bound_token(tmp_path):
    ensure_node_modules()
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    with (
        serve(config, tmp_path / "state") as issuer,
        uvicorn_app("tests.interop.api_app:app", {"IDENTITYSERVER_AUTHORITY": issuer}) as api,
    ):
        completed = subprocess.run(  # noqa: PLW1510 - the return code is asserted
            ["node", str(HERE / "dpop_client.mjs"), issuer, "node", "node-secret", "api1", f"{api}/whoami"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=HERE,
        )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["token_type"].lower() == "dpop"  # token_type is case-insensitive (RFC 6749 §7.1)
    payload = json.loads(base64.urlsafe_b64decode(result["access_token"].split(".")[1] + "==="))
    assert payload["cnf"]["jkt"] == result["jkt"]
    assert result["api_status"] == 200, result["api_body"]
    assert json.loads(result["api_body"]) == {"sub": "node", "scheme": "DPoP", "jkt": result["jkt"]}
