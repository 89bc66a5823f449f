"""Interoperability: panva's oauth4webapi (run with Node) validates JWT-secured authorization responses (JARM)
of `identityserver serve` with ``validateJwtAuthResponse``: a success response after a sign-in, an error
response, and a tampered response that it must reject."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import httpx

from tests.interop.node import run_node
from tests.support.browser import Browser, code_request, complete_authorize
from tests.support.data import ALICE_PASSWORD_HASH
from tests.support.process import serve

CALLBACK = "https://jarm.example/cb"
CONFIG = f"""
[options.key_management]
signing_algorithms = ["RS256", "ES256"]

[[clients]]
client_id = "jarm"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{CALLBACK}"]
allowed_scopes = ["openid", "profile"]
authorization_signed_response_alg = "ES256"

[[users]]
subject_id = "1"
username = "alice"
password_hash = "{ALICE_PASSWORD_HASH}"
"""


def validate(issuer: str, location: str, state: str) -> dict[str, str]:
    completed = run_node("jarm_response.mjs", issuer, "jarm", "ES256", location, state)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


async def test_oauth4webapi_validates_signed_authorization_responses(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    with serve(config, tmp_path / "state") as issuer:
        async with httpx.AsyncClient(base_url=issuer) as http:
            params, verifier = code_request("jarm", CALLBACK, "openid profile", response_mode="jwt")
            final = await complete_authorize(Browser(http), params)
            assert final.status_code == 302, final.text[:300]
            location = final.headers["location"]
            result = validate(issuer, location, params["state"])
            assert result["iss"] == issuer and result["state"] == params["state"] and result["code"], result
            token = await http.post(
                "/connect/token",
                data={
                    "grant_type": "authorization_code",
                    "code": result["code"],
                    "redirect_uri": CALLBACK,
                    "code_verifier": verifier,
                },
                auth=("jarm", "secret"),
            )
            assert token.status_code == 200, token.text

            tampered = location[:-4] + ("AAAA" if not location.endswith("AAAA") else "BBBB")
            assert "invalid" in validate(issuer, tampered, params["state"])

            denied, _ = code_request("jarm", CALLBACK, "openid profile", response_mode="jwt", prompt="none")
        async with httpx.AsyncClient(base_url=issuer) as anonymous:  # no session cookie
            error = await anonymous.get("/connect/authorize?" + urlencode(denied))
        assert error.status_code == 302
        assert validate(issuer, error.headers["location"], denied["state"]) == {
            "error": "login_required",
            "state": denied["state"],
        }
