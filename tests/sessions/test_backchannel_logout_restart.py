"""A back-channel logout survives a crash (OIDC Back-Channel Logout 1.0 §2.5, §2.8): ``identityserver serve`` is
killed (SIGKILL) while a relying party's listener holds the first delivery unanswered; after a restart on the
same database the listener receives the logout token, which verifies against the server's JWKS. SQLite, and
PostgreSQL with the postgres marker."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import text

from identityserver.services.backchannel_logout import BACKCHANNEL_LOGOUT_EVENT
from identityserver.storage.sqlalchemy.engine import Database
from tests.storage.conftest import fresh_pg_database, sql_backends
from tests.support.browser import Browser, pkce_pair, redirect_parameters
from tests.support.process import free_port, wait_until_up

CONFIG = """
%(database)s
[options.logout]
back_channel_logout_timeout = 1.0
back_channel_logout_retry_initial_delay = 0.5
back_channel_logout_poll_interval = 0.2

[[clients]]
client_id = "rp"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://rp.example/cb"]
allowed_scopes = ["openid", "profile"]
back_channel_logout_uri = "%(uri)s"

[[users]]
subject_id = "alice-1"
username = "alice"
password = "alice"
"""


class SlowListener:
    """An RP's back-channel logout endpoint that holds every request unanswered while ``slow``, then answers
    200 at once. Records each logout token with whether it came while slow."""

    def __init__(self) -> None:
        self.received: list[tuple[bool, str]] = []
        self.slow = True
        self.release = threading.Event()
        self.arrived = threading.Event()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
                slow = listener.slow
                listener.received.append((slow, parse_qs(body)["logout_token"][0]))
                listener.arrived.set()
                if slow:
                    listener.release.wait(60)
                with contextlib.suppress(OSError):  # the sender may be dead by now
                    self.send_response(200)
                    self.send_header("content-length", "0")
                    self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bcl"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SlowListener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def answer_promptly(self) -> None:
        self.slow = False
        self.release.set()

    def wait_for_prompt_delivery(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            prompt = [token for slow, token in self.received if not slow]
            if prompt:
                return prompt[0]
            time.sleep(0.05)
        raise AssertionError(f"no logout token after the restart ({len(self.received)} received while slow)")


@contextlib.contextmanager
def server_process(config: Path, state: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    args = [
        sys.executable, "-m", "identityserver", "serve", "--config", str(config), "--port", str(port),
        "--state-path", str(state), "--log-level", "info",
    ]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        wait_until_up(f"http://127.0.0.1:{port}/.well-known/openid-configuration", process, timeout=60)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


async def sign_in_and_out(base: str) -> str:
    """Sign alice in to the RP, then out with the ID token as hint; returns the ID token."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        browser = Browser(http)
        verifier, challenge = pkce_pair()
        query = urlencode({"client_id": "rp", "response_type": "code", "redirect_uri": "https://rp.example/cb",
                           "scope": "openid profile", "code_challenge": challenge,
                           "code_challenge_method": "S256", "nonce": "n"})  # fmt: skip
        page = await browser.login(await browser.get(f"/connect/authorize?{query}"), "alice", "alice")
        code = redirect_parameters(page)["code"]
        token = await http.post("/connect/token", auth=("rp", "secret"), data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": "https://rp.example/cb",
            "code_verifier": verifier})  # fmt: skip
        assert token.status_code == 200, token.text
        id_token: str = token.json()["id_token"]
        page = await browser.get(f"/connect/endsession?{urlencode({'id_token_hint': id_token})}")
        assert page.status_code == 200 and "signed out" in page.text, page.text
        return id_token


def part(token: str, index: int) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[index] + "==="))


async def pending_deliveries(url: str) -> int:
    database = Database(url)
    try:
        async with database.read() as conn:
            return int(
                (await conn.execute(text('SELECT COUNT(*) FROM "IdentityServerBackChannelLogouts"'))).scalar_one()
            )
    finally:
        await database.dispose()


@contextlib.contextmanager
def database_for(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'identityserver.db'}"
        return
    with fresh_pg_database() as url:
        yield url


@pytest.mark.parametrize("kind", sql_backends())
async def test_a_logout_token_held_up_by_a_crash_arrives_after_the_restart(kind, tmp_path):
    with database_for(kind, tmp_path) as database_url, SlowListener() as listener:
        config = tmp_path / "server.toml"
        config.write_text(CONFIG % {"database": f'database_url = "{database_url}"', "uri": listener.url})
        port, state, log = free_port(), tmp_path / "state", tmp_path / "server.log"
        base = f"http://127.0.0.1:{port}"

        with server_process(config, state, port, log) as first:
            id_token = await sign_in_and_out(base)
            assert await asyncio.to_thread(listener.arrived.wait, 10), "the first delivery was never attempted"
            first.send_signal(signal.SIGKILL)
            first.wait()
        assert all(slow for slow, _ in listener.received)
        held = listener.received[0][1]
        assert await pending_deliveries(database_url) == 1

        listener.answer_promptly()
        with server_process(config, state, port, log):
            token = await asyncio.to_thread(listener.wait_for_prompt_delivery, 30)
            async with httpx.AsyncClient(base_url=base) as http:
                jwks = (await http.get("/.well-known/openid-configuration/jwks")).json()
            deadline = time.monotonic() + 10
            while await pending_deliveries(database_url) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert await pending_deliveries(database_url) == 0

    assert part(token, 0)["typ"] == "logout+jwt"
    claims = dict(jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"]).claims)
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": base}, aud={"essential": True, "value": "rp"},
                          exp={"essential": True}, iat={"essential": True}).validate(claims)  # fmt: skip
    assert claims["sub"] == "alice-1" and claims["sid"] == part(id_token, 1)["sid"]
    assert claims["events"] == {BACKCHANNEL_LOGOUT_EVENT: {}} and "nonce" not in claims
    # the same delivery, signed again: one jti for every attempt of one logout (§2.6 replay detection)
    assert claims["jti"] == part(held, 1)["jti"]
    output = log.read_text(errors="replace")
    assert token not in output and held not in output
