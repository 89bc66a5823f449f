"""Interactive sign-in in real headless Chromium against ``identityserver serve`` (issue 3 "Verification"): open
the authorize URL, sign in as alice, consent, receive the code at the client's redirect URI, exchange it, call
userinfo, refresh, sign out, then ``prompt=none`` answers ``login_required``. The server process is always
terminated."""

from __future__ import annotations

import contextlib
import html
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.support.browser import pkce_pair

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REDIRECT_URI = "https://client.example/signin-oidc"
STARTUP_TIMEOUT = 60.0

CONFIG = f"""
[[clients]]
client_id = "browser.web"
client_name = "Browser test app"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{REDIRECT_URI}"]
allowed_scopes = ["openid", "profile", "email", "api1"]
allow_offline_access = true
require_consent = true

[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]

[[users]]
subject_id = "1"
username = "alice"
password = "alice"
[users.claims]
name = "Alice Smith"
email = "alice@example.com"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command() -> list[str]:
    script = Path(sys.executable).with_name("identityserver")
    if script.exists():
        return [str(script), "serve"]
    found = shutil.which("identityserver")
    return [found, "serve"] if found else [sys.executable, "-m", "identityserver", "serve"]


@contextlib.contextmanager
def identityserver(tmp_path: Path) -> Iterator[str]:
    """``identityserver serve --config <tmp toml> --port <free> --state-path <tmp>``; yields its base URL and
    always terminates it."""
    config = tmp_path / "server.toml"
    config.write_text(CONFIG)
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [
            *serve_command(),
            "--config",
            str(config),
            "--port",
            str(port),
            "--state-path",
            str(tmp_path / "state"),
            "--log-level",
            "warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"identityserver exited: {(tmp_path / 'server.log').read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/.well-known/openid-configuration", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"identityserver did not start: {(tmp_path / 'server.log').read_text()[-3000:]}")
            time.sleep(0.2)  # waiting for a real process to listen, not for the code under test
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def parameters(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    with identityserver(tmp_path) as base:
        yield base


async def test_sign_in_consent_tokens_refresh_and_sign_out_in_chromium(server_url):
    from playwright.async_api import Page, Route, async_playwright

    discovery = httpx.get(f"{server_url}/.well-known/openid-configuration").json()
    verifier, challenge = pkce_pair()
    authorize = {
        "client_id": "browser.web",
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email api1 offline_access",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }

    async def client_app(route: Route) -> None:
        """The client application, answered inside the browser: ``/start?to=URL`` is a page with a sign-in link
        to URL; anything else (the redirect URI) is a plain page."""
        url = urlsplit(route.request.url)
        if url.path == "/start":
            target = html.escape(parse_qs(url.query)["to"][0])
            body = f'<!doctype html><title>client</title><a id="signin" href="{target}">Sign in</a>'
        else:
            body = "<!doctype html><title>client</title>signed in"
        await route.fulfill(status=200, content_type="text/html", body=body)

    async def start_at_the_client(page: Page, authorize_url: str) -> None:
        await page.goto(f"https://client.example/start?{urlencode({'to': authorize_url})}")
        await page.click("#signin")

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = await (await chromium.new_context()).new_page()
            await page.route("https://client.example/**", client_app)

            # sign in as alice
            await start_at_the_client(page, f"{discovery['authorization_endpoint']}?{urlencode(authorize)}")
            await page.wait_for_url("**/account/login?**")
            await page.fill("input[name=username]", "alice")
            await page.fill("input[name=password]", "alice")
            await page.click("button[name=button][value=login]")

            # consent
            await page.wait_for_url("**/consent?**")
            assert await page.locator("input[name=scopes_consented][value=api1]").is_checked()
            async with page.expect_request(lambda request: request.url.startswith(REDIRECT_URI)) as arrival:
                await page.click("button[name=button][value=yes]")
            # the redirect's page must have loaded before the next navigation, or Chromium aborts one of the two
            await page.wait_for_url(f"{REDIRECT_URI}?**")
            returned = parameters((await arrival.value).url)
            assert returned["state"] == "st-1" and returned["iss"] == discovery["issuer"]

            # the client exchanges the code, calls userinfo and refreshes
            with httpx.Client() as backend:
                token = backend.post(
                    discovery["token_endpoint"],
                    auth=("browser.web", "secret"),
                    data={
                        "grant_type": "authorization_code",
                        "code": returned["code"],
                        "redirect_uri": REDIRECT_URI,
                        "code_verifier": verifier,
                    },
                )
                assert token.status_code == 200, token.text
                tokens = token.json()
                assert {"access_token", "id_token", "refresh_token"} <= set(tokens)
                info = backend.get(
                    discovery["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens['access_token']}"}
                )
                assert info.status_code == 200, info.text
                assert info.json()["sub"] == "1" and info.json()["name"] == "Alice Smith"
                refreshed = backend.post(
                    discovery["token_endpoint"],
                    auth=("browser.web", "secret"),
                    data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                )
                assert refreshed.status_code == 200, refreshed.text
                assert refreshed.json()["refresh_token"] != tokens["refresh_token"]

            # sign out through the logout prompt
            await page.goto(f"{server_url}/account/logout")
            await page.click("button[name=button][value=yes]")
            await page.wait_for_url("**/account/logged-out**")
            assert "signed out" in (await page.content()).lower()

            # no session any more: prompt=none answers login_required at the client
            silent = {**authorize, "prompt": "none", "state": "st-2"}
            async with page.expect_request(lambda request: request.url.startswith(REDIRECT_URI)) as arrival:
                await start_at_the_client(page, f"{discovery['authorization_endpoint']}?{urlencode(silent)}")
            returned = parameters((await arrival.value).url)
            assert returned["error"] == "login_required" and returned["state"] == "st-2"
            assert "code" not in returned
        finally:
            await chromium.close()
