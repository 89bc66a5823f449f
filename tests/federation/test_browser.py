"""Federation in headless Chromium (issue 14 "Verification"): the upstream is a second instance of this server
(``identityserver serve`` with its own configuration and port); the server under test runs in this process on
its SQL stores (SQLite), built from a configuration file with ``[[identity_providers]]`` as ``serve`` builds it.

The two hosts are ``idp.example.localhost`` and ``rp.example.localhost`` (Chromium resolves ``*.localhost`` to
the loopback interface, RFC 6761 §6.3): distinct hosts keep the two servers' ``idsrv`` cookies apart, and one
site (``example.localhost``) lets the upstream's front-channel logout iframe carry our session cookie."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn

from identityserver.configuration.host import create_builder
from identityserver.configuration.loader import load_configuration
from identityserver.hosting.app import create_app
from identityserver.hosting.services import Services
from identityserver.services.protocols import HttpClientFactory
from identityserver.ui import create_ui
from tests.support.browser import pkce_pair
from tests.support.keys import pregenerated_signing_keys
from tests.support.process import free_port, serve

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
CLIENT_REDIRECT = "https://client.example/cb"


class LoopbackTransport(httpx.AsyncBaseTransport):
    """Sends calls to ``*.localhost`` to 127.0.0.1 keeping the ``Host`` header (the test machine's resolver does
    not know RFC 6761 names; Chromium does)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if (request.url.host or "").endswith(".localhost"):
            request.url = request.url.copy_with(host="127.0.0.1")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def upstream_config(up: str, down: str) -> str:
    return f"""
issuer_uri = "{up}"

[[clients]]
client_id = "downstream"
client_secrets = ["fed-secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{down}/federation/corp/signin"]
post_logout_redirect_uris = ["{down}/federation/corp/signout-callback"]
front_channel_logout_uri = "{down}/federation/corp/signout"
allowed_scopes = ["openid", "profile", "email"]
require_consent = false

[[users]]
subject_id = "up-1"
username = "alice"
password = "alice"
[users.claims]
name = "Alice Upstream"
email = "alice@upstream.example"
"""


def downstream_config(up: str, down: str) -> str:
    return f"""
issuer_uri = "{down}"

[[identity_providers]]
scheme = "corp"
display_name = "Corporate sign-in"
authority = "{up}"
client_id = "downstream"
client_secret = "fed-secret"
response_type = "code"
scope = "openid profile email"

[[clients]]
client_id = "app"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{CLIENT_REDIRECT}"]
allowed_scopes = ["openid", "profile", "email"]
require_consent = false
"""


@contextlib.asynccontextmanager
async def downstream_server(config_path: Path, state: Path, port: int) -> AsyncIterator[Services]:
    builder = create_builder(load_configuration(config_path), state)
    factory: HttpClientFactory = lambda: httpx.AsyncClient(transport=LoopbackTransport(), timeout=10)  # noqa: E731
    builder.add(HttpClientFactory, factory)
    services = builder.build()
    server = uvicorn.Server(
        uvicorn.Config(create_app(services, create_ui(services)), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)  # waiting for the socket to listen, not for the code under test
        yield services
    finally:
        server.should_exit = True
        await task


def claims_of(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def parameters(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_sign_in_provisioning_and_sign_out_at_both_through_an_upstream_instance(tmp_path: Path) -> None:
    from playwright.async_api import Page, Route, async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    up_port, down_port = free_port(), free_port()
    up, down = f"http://idp.example.localhost:{up_port}", f"http://rp.example.localhost:{down_port}"
    (tmp_path / "up.toml").write_text(upstream_config(up, down))
    (tmp_path / "down.toml").write_text(downstream_config(up, down))

    async def client_app(route: Route) -> None:
        url = urlsplit(route.request.url)
        body = "<!doctype html><title>client</title>signed in"
        if url.path == "/start":
            body = f'<!doctype html><a id="go" href="{html.escape(parse_qs(url.query)["to"][0])}">Sign in</a>'
        await route.fulfill(status=200, content_type="text/html", body=body)

    async def authorize(page: Page, **extra: str) -> tuple[dict[str, str], str]:
        verifier, challenge = pkce_pair()
        request = {
            "client_id": "app",
            "response_type": "code",
            "redirect_uri": CLIENT_REDIRECT,
            "scope": "openid profile email",
            "state": "st",
            "nonce": "n",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        }
        start = urlencode({"to": f"{down}/connect/authorize?{urlencode(request)}"})
        await page.goto(f"https://client.example/start?{start}")
        await page.click("#go")
        return request, verifier

    async def federated_sign_in(page: Page) -> tuple[dict[str, str], str]:
        """Through our login page's ``[data-idp=corp]`` control to the upstream's login page and back: the
        client receives the code; returns the redirect's parameters and the PKCE verifier."""
        _, verifier = await authorize(page)
        await page.wait_for_url(f"{down}/account/login?**")
        await page.click("[data-idp=corp]")
        await page.wait_for_url(f"{up}/account/login?**")
        await page.fill("input[name=username]", "alice")
        await page.fill("input[name=password]", "alice")
        async with page.expect_request(lambda r: r.url.startswith(CLIENT_REDIRECT)) as arrival:
            await page.click("button[name=button][value=login]")
        await page.wait_for_url(f"{CLIENT_REDIRECT}?**")  # loaded before the next navigation
        return parameters((await arrival.value).url), verifier

    async def session_cookie(page: Page, origin: str) -> str | None:
        cookies = await page.context.cookies([origin])
        return next((c["value"] for c in cookies if c["name"] == "idsrv" and c["value"]), None)

    with serve(tmp_path / "up.toml", tmp_path / "up-state", port=up_port), pregenerated_signing_keys():
        async with (
            downstream_server(tmp_path / "down.toml", tmp_path / "down-state", down_port) as services,
            async_playwright() as playwright,
        ):
            chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await (await chromium.new_context()).new_page()
                await page.route("https://client.example/**", client_app)

                # sign in at the upstream through our login page: the client's code carries idp and amr,
                # and the upstream account was provisioned as a local user
                returned, verifier = await federated_sign_in(page)
                assert returned["state"] == "st" and returned["iss"] == down
                async with httpx.AsyncClient(transport=LoopbackTransport()) as backend:
                    token = await backend.post(
                        f"{down}/connect/token",
                        auth=("app", "secret"),
                        data={
                            "grant_type": "authorization_code",
                            "code": returned["code"],
                            "redirect_uri": CLIENT_REDIRECT,
                            "code_verifier": verifier,
                        },
                    )
                assert token.status_code == 200, token.text
                claims = claims_of(token.json()["id_token"])
                assert claims["idp"] == "corp" and claims["amr"] == ["external"] and claims["sub"] != "up-1"
                assert services.users is not None
                user = await services.users.find_by_subject_id(claims["sub"])
                assert user is not None and user.display_name() == "Alice Upstream"
                logins = services.federation.resolver.logins  # type: ignore[union-attr,attr-defined]
                assert [x.scheme for x in await logins.find_by_subject(user.subject_id)] == ["corp"]
                assert await session_cookie(page, up) and await session_cookie(page, down)

                # signing out here signs out at the upstream too (RP-initiated logout with id_token_hint)
                await page.goto(f"{down}/account/logout")
                await page.click("button[name=button][value=yes]")
                await page.wait_for_url(f"{up}/**")
                if "/account/logout" in page.url:  # the upstream may ask before signing out
                    await page.click("button[name=button][value=yes]")
                await page.wait_for_url(f"{up}/account/logged-out**")
                await page.click("#post-logout-redirect")
                await page.wait_for_url(f"{down}/account/logged-out**")
                assert await session_cookie(page, up) is None and await session_cookie(page, down) is None

                # an upstream sign-out ends the session here (front-channel logout in the upstream's iframe)
                await federated_sign_in(page)
                assert await session_cookie(page, down)
                await page.goto(f"{up}/account/logout")
                async with page.expect_response(lambda r: r.url.startswith(f"{down}/federation/corp/signout?")):
                    await page.click("button[name=button][value=yes]")
                assert await session_cookie(page, down) is None
                async with page.expect_request(lambda r: r.url.startswith(CLIENT_REDIRECT)) as arrival:
                    await authorize(page, prompt="none")
                assert parameters((await arrival.value).url)["error"] == "login_required"
            finally:
                await chromium.close()
