"""Interoperability: panva's oauth4webapi (run with Node) redeems a code of a request with the ``claims``
parameter (OIDC Core §5.5) at `identityserver serve` and validates the ID token and the userinfo response: the
``id_token`` member's claim is in the ID token, the ``userinfo`` member's at userinfo, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.interop.node import run_node
from tests.support.browser import Browser, code_request, complete_authorize
from tests.support.data import ALICE_PASSWORD_HASH
from tests.support.process import serve

CALLBACK = "https://claims.example/cb"
CONFIG = f"""
[[clients]]
client_id = "claims"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{CALLBACK}"]
allowed_scopes = ["openid", "profile", "email"]

[[users]]
subject_id = "1"
username = "alice"
password_hash = "{ALICE_PASSWORD_HASH}"
[users.claims]
name = "Alice Smith"
email = "alice@example.com"
"""


async def test_oauth4webapi_sees_the_individually_requested_claims(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    requested = {"id_token": {"email": {"essential": True}}, "userinfo": {"name": None}}
    with serve(config, tmp_path / "state") as issuer:
        async with httpx.AsyncClient(base_url=issuer) as http:
            params, verifier = code_request("claims", CALLBACK, "openid", claims=json.dumps(requested))
            final = await complete_authorize(Browser(http), params)
            assert final.status_code == 302, final.text[:300]
        completed = run_node(
            "claims_client.mjs",
            issuer,
            "claims",
            "secret",
            CALLBACK,
            final.headers["location"],
            params["state"],
            params["nonce"],
            verifier,
        )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["id_token"]["email"] == "alice@example.com" and "name" not in result["id_token"]
    assert result["userinfo"] == {"sub": "1", "name": "Alice Smith"}
