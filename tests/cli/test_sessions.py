"""``identityserver sessions list | end`` against the database a running server uses."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlencode

import httpx

from tests.support.browser import Browser, pkce_pair, redirect_parameters
from tests.support.process import serve

CONFIG = """
[options.server_side_sessions]
enabled = true

[[clients]]
client_id = "web"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "profile"]
allow_offline_access = true
coordinate_lifetime_with_user_session = true

[[users]]
subject_id = "alice-1"
username = "alice"
password = "alice"
[users.claims]
name = "Alice Smith"
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "identityserver", "sessions", *args],
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )


async def sign_in(base: str) -> dict:
    async with httpx.AsyncClient(base_url=base) as http:
        browser = Browser(http)
        verifier, challenge = pkce_pair()
        query = urlencode(
            {
                "client_id": "web",
                "response_type": "code",
                "redirect_uri": "https://web.example/cb",
                "scope": "openid offline_access",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        page = await browser.login(await browser.get(f"/connect/authorize?{query}"), "alice", "alice")
        code = redirect_parameters(page)["code"]
        token = await http.post(
            "/connect/token",
            auth=("web", "secret"),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "https://web.example/cb",
                "code_verifier": verifier,
            },
        )
        assert token.status_code == 200, token.text
        return token.json()


async def test_sessions_are_listed_and_ended_from_the_command_line(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    state = str(tmp_path / "state")
    with serve(config, tmp_path / "state") as base:
        tokens = await sign_in(base)
        listed = cli("list", "--config", str(config), "--state-path", state)
        assert listed.returncode == 0, listed.stderr
        assert "alice-1" in listed.stdout and "Alice Smith" in listed.stdout and "web" in listed.stdout
        assert "1 session(s)" in listed.stdout
        ended = cli("end", "--subject", "alice-1", "--config", str(config), "--state-path", state, "--issuer", base)
        assert ended.returncode == 0, ended.stderr
        assert "ended 1 session(s)" in ended.stdout
        after = cli("list", "--config", str(config), "--state-path", state)
        assert "0 session(s)" in after.stdout
        refreshed = httpx.post(
            f"{base}/connect/token",
            auth=("web", "secret"),
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        )
        assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


def test_end_requires_a_subject(tmp_path):
    result = cli("end", "--state-path", str(tmp_path))
    assert result.returncode == 2 and "--subject" in result.stderr
