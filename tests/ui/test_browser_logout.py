"""Single sign-out in real headless Chromium: sign in to two clients, sign out from one; both front-channel
iframes load, both back-channel receivers get a logout token, and prompt=none then answers login_required
(OIDC Front-Channel Logout §3, Back-Channel Logout §2.5, Core §3.1.2.6)."""

from __future__ import annotations

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.support.browser import pkce_pair
from tests.support.process import serve

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class RelyingParty:
    """A client application's endpoints: redirect URI, front-channel and back-channel logout URIs."""

    def __init__(self) -> None:
        self.gets: list[str] = []
        self.posts: list[dict[str, list[str]]] = []
        rp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                rp.gets.append(self.path)
                body = b"<!doctype html><title>rp</title><p>ok</p>"
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                rp.posts.append(parse_qs(self.rfile.read(length).decode()))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def front_channel_calls(self) -> list[str]:
        return [p for p in self.gets if p.startswith("/fc")]


def config(rp1: RelyingParty, rp2: RelyingParty) -> str:
    blocks = []
    for name, rp in (("rp1", rp1), ("rp2", rp2)):
        blocks.append(f"""
[[clients]]
client_id = "{name}"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{rp.base}/cb"]
post_logout_redirect_uris = ["{rp.base}/bye"]
front_channel_logout_uri = "{rp.base}/fc"
back_channel_logout_uri = "{rp.base}/bcl"
allowed_scopes = ["openid", "profile"]
""")
    users = """
[[users]]
subject_id = "1"
username = "alice"
password = "alice"
"""
    return "".join(blocks) + users


async def authorize(page, issuer: str, client_id: str, rp: RelyingParty, **extra: str) -> dict[str, list[str]]:
    verifier, challenge = pkce_pair()
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": f"{rp.base}/cb",
        "scope": "openid",
        "state": "st",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    await page.goto(f"{issuer}/connect/authorize?{urlencode(params)}")
    if "/account/login" in page.url:
        await page.fill("input[name=username]", "alice")
        await page.fill("input[name=password]", "alice")
        await page.click("button[name=button][value=login]")
    await page.wait_for_url(f"{rp.base}/cb**")
    query = parse_qs(urlsplit(page.url).query)
    query["verifier"] = [verifier]
    return query


def exchange(issuer: str, client_id: str, rp: RelyingParty, query: dict[str, list[str]]) -> dict:
    response = httpx.post(
        f"{issuer}/connect/token",
        auth=(client_id, "secret"),
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": f"{rp.base}/cb",
            "code_verifier": query["verifier"][0],
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


async def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


@pytest.mark.browser
async def test_signing_out_of_one_client_signs_out_of_both(tmp_path):
    from playwright.async_api import async_playwright

    rp1, rp2 = RelyingParty(), RelyingParty()
    config_file = tmp_path / "config.toml"
    config_file.write_text(config(rp1, rp2))
    try:
        with serve(config_file, tmp_path / "state") as issuer:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = await browser.new_page()
                first = exchange(issuer, "rp1", rp1, await authorize(page, issuer, "rp1", rp1))
                second = await authorize(page, issuer, "rp2", rp2)  # single sign-on: no login page
                exchange(issuer, "rp2", rp2, second)
                await page.goto(f"{issuer}/connect/endsession?{urlencode({'id_token_hint': first['id_token']})}")
                await page.wait_for_selector("text=You are now signed out")
                await wait_for(lambda: rp1.front_channel_calls() and rp2.front_channel_calls())
                await wait_for(lambda: rp1.posts and rp2.posts)
                after = await authorize(page, issuer, "rp1", rp1, prompt="none")
                await browser.close()
    finally:
        rp1.close()
        rp2.close()
    assert "sid=" in rp1.front_channel_calls()[0] and "iss=" in rp1.front_channel_calls()[0]
    assert "logout_token" in rp1.posts[0] and "logout_token" in rp2.posts[0]
    assert after["error"] == ["login_required"] and after["state"] == ["st"]
