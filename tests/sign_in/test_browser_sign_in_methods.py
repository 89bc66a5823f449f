"""Passkeys and TOTP in real headless Chromium against ``identityserver serve`` (issue 14 "Verification"): alice
registers a passkey through Chromium's virtual authenticator (DevTools ``WebAuthn.addVirtualAuthenticator``, ctap2,
internal transport, resident keys, user verification) and turns TOTP on; then a client that requires MFA gets
a code after a username-less passkey sign-in, and again after password + a TOTP code computed by the test. The
server runs on ``localhost`` (a WebAuthn RP id must be a domain, and localhost is a secure context)."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from identityserver.services.totp import hotp
from tests.support.browser import pkce_pair
from tests.support.client_auth import jwt_parts
from tests.support.process import serve
from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

REDIRECT_URI = "https://client.example/cb"
CONFIG = f"""
[[clients]]
client_id = "mfa.web"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{REDIRECT_URI}"]
allowed_scopes = ["openid", "profile"]
require_consent = false
require_mfa = true

[[users]]
subject_id = "1"
username = "alice"
password = "alice"
[users.claims]
name = "Alice Smith"
"""


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    config = tmp_path / "server.toml"
    config.write_text(CONFIG)
    # bound by name, so that the issuer (and with it the RP id) is localhost
    with serve(config, tmp_path / "state", ["--host", "localhost"]) as base:
        yield base.replace("127.0.0.1", "localhost")


def totp_now(key: str, after_step: int | None) -> tuple[str, int]:
    """The code of the current step (the next one when the current was already used: within the ±1 window)."""
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    step = int(time.time()) // 30
    if after_step is not None and step <= after_step:
        step = after_step + 1
    return hotp(secret, step), step


def exchange(base: str, code: str, verifier: str) -> dict[str, object]:
    token = httpx.post(
        f"{base}/connect/token",
        auth=("mfa.web", "secret"),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.text
    return jwt_parts(token.json()["id_token"])[1]


async def test_passkey_and_totp_sign_in_in_chromium(server_url: str) -> None:
    from playwright.async_api import Page, Route, async_playwright

    async def client_app(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>client</title>ok")

    def authorize_url() -> tuple[str, str, str]:
        """An authorize request of ``mfa.web``: (URL, PKCE verifier, state)."""
        verifier, challenge = pkce_pair()
        params = {
            "client_id": "mfa.web",
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile",
            "state": f"st-{time.monotonic_ns()}",
            "nonce": "n",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{server_url}/connect/authorize?{urlencode(params)}", verifier, params["state"]

    async def settled_at_the_client(page: Page) -> None:
        """Wait until the redirect to the client has been committed. The route above does not see the last hop of
        a redirect chain (Playwright routes only its first URL), so that hop can end on Chromium's error page for
        the unresolvable client.example. A navigation started before then would be interrupted by it."""
        for _ in range(200):
            if page.url.startswith((REDIRECT_URI, "chrome-error://")):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the browser did not arrive at the client: {page.url}")

    def returned(page: Page) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await chromium.new_context()
            page = await context.new_page()
            await context.route("https://client.example/**", client_app)
            cdp = await context.new_cdp_session(page)
            await cdp.send("WebAuthn.enable", {"enableUI": False})
            authenticator = await cdp.send(
                "WebAuthn.addVirtualAuthenticator",
                {
                    "options": {
                        "protocol": "ctap2",
                        "transport": "internal",
                        "hasResidentKey": True,
                        "hasUserVerification": True,
                        "isUserVerified": True,
                        "automaticPresenceSimulation": True,
                    }
                },
            )

            # alice signs in with her password and registers a passkey on the security page
            await page.goto(f"{server_url}/account/login?{urlencode({'returnUrl': '/account/passkeys'})}")
            await page.fill("input[name=username]", "alice")
            await page.fill("input[name=password]", "alice")
            await page.click("button[name=button][value=login]")
            await page.wait_for_url("**/account/passkeys")
            await page.fill("#passkey-register input[name=name]", "Chromium key")
            async with page.expect_navigation():
                await page.click("button[name=button][value=register_passkey]")
            assert await page.locator(".passkey-name").all_inner_texts() == ["Chromium key"]
            stored = await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator["authenticatorId"]})
            assert len(stored["credentials"]) == 1 and stored["credentials"][0]["isResidentCredential"]

            # ... and turns TOTP on with a code computed here
            await page.goto(f"{server_url}/account/mfa")
            await page.click("button[name=button][value=totp_begin]")
            key = await page.get_attribute("[data-totp-secret]", "data-totp-secret")
            assert key and (await page.locator("#totp-key").inner_text()).replace(" ", "") == key
            assert await page.locator(".qr svg").count() == 1
            code, used_step = totp_now(key, None)
            await page.fill("input[name=code]", code)
            await page.click("button[name=button][value=verify]")
            assert len(await page.locator("#recovery-codes li").all()) == 10

            # signed out, the MFA client's request is answered after a passkey sign-in without a username
            await context.clear_cookies()
            url, verifier, state = authorize_url()
            # passkey autofill: the login page's conditional request (mediation "conditional") is answered by the
            # authenticator's discoverable credential, with nothing typed or clicked
            async with page.expect_request(lambda request: request.url.startswith(REDIRECT_URI)) as arrival:
                await page.goto(url, wait_until="commit")
            answer = {k: v[0] for k, v in parse_qs(urlsplit((await arrival.value).url).query).items()}
            await settled_at_the_client(page)
            assert answer["state"] == state
            claims = exchange(server_url, answer["code"], verifier)
            assert claims["sub"] == "1" and claims["amr"] == ["hwk", "user", "mfa"] and claims["acr"] == "mfa"

            # signed out again, on a device without the passkey (autofill would sign in at once): password, then a
            # TOTP code
            await cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator["authenticatorId"]})
            await context.clear_cookies()
            url, verifier, state = authorize_url()
            await page.goto(url)
            await page.wait_for_url("**/account/login?**")
            assert await page.get_attribute("input[name=username]", "autocomplete") == "username webauthn"
            assert await page.locator("button[name=button][value=passkey]").count() == 1
            await page.fill("input[name=username]", "alice")
            await page.fill("input[name=password]", "alice")
            await page.click("button[name=button][value=login]")
            await page.wait_for_url("**/account/login/two-factor?**")
            await page.fill("input[name=code]", "000000" if totp_now(key, used_step)[0] != "000000" else "111111")
            await page.click("button[name=button][value=verify]")
            assert "not right" in await page.locator(".error").inner_text()
            code, _ = totp_now(key, used_step)
            await page.fill("input[name=code]", code)
            await page.click("button[name=button][value=verify]")
            await page.wait_for_url(f"{REDIRECT_URI}?**")
            answer = returned(page)
            assert answer["state"] == state
            claims = exchange(server_url, answer["code"], verifier)
            assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == "mfa"
        finally:
            await chromium.close()
