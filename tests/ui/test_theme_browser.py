"""A theme folder (``[options.ui] theme_path``, issue 10 "Theming") in real headless Chromium against
``identityserver serve``: the overridden login page is rendered and signs alice in (keeping the interface
contract's form fields), the page it does not override (consent) falls back to the shipped one, and the theme's
static files are served, its CSS applied under the UI's Content-Security-Policy. The server is always
terminated."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.support.browser import pkce_pair
from tests.support.process import serve
from tests.ui.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CONFIG,
    REDIRECT_URI,
    parameters,
)

pytestmark = pytest.mark.browser

THEMED_LOGIN = """{% extends "_layout.html" %}
{% block title %}Acme sign-in{% endblock %}
{% block content %}
<h1 id="acme-heading">Welcome to Acme</h1>
<img src="{{ root }}/static/acme-logo.svg" alt="Acme" id="acme-logo">
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="{{ root }}/account/login" class="acme-login">
  <input type="hidden" name="__RequestVerificationToken" value="{{ antiforgery_token }}">
  <input type="hidden" name="returnUrl" value="{{ return_url }}">
  <label>Acme account <input name="username" value="{{ username }}" required></label>
  <label>Passphrase <input name="password" type="password"></label>
  <button type="submit" name="button" value="login">Continue to {{ context.client.client_name }}</button>
</form>
{% endblock %}
"""
THEMED_CSS = "body { background-color: rgb(1, 2, 3); }\n#acme-heading { color: rgb(200, 100, 50); }\n"
LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>\n'


def write_theme(root: Path) -> None:
    (root / "templates").mkdir(parents=True)
    (root / "static").mkdir()
    (root / "templates" / "login.html").write_text(THEMED_LOGIN)
    (root / "static" / "site.css").write_text(THEMED_CSS)
    (root / "static" / "acme-logo.svg").write_text(LOGO)


@contextlib.contextmanager
def themed_server(tmp_path: Path) -> Iterator[str]:
    write_theme(tmp_path / "theme")
    config = tmp_path / "server.toml"
    config.write_text(CONFIG + '\n[options.ui]\ntheme_path = "theme"\n')  # relative to the file
    # started in "/" so that the theme is found relative to the file, not the working directory
    with serve(config, tmp_path / "state", cwd=Path("/")) as base:
        yield base


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    with themed_server(tmp_path) as base:
        yield base


def test_the_theme_static_files_replace_and_extend_the_shipped_ones(server_url: str) -> None:
    css = httpx.get(f"{server_url}/static/site.css")
    assert css.status_code == 200
    assert css.text == THEMED_CSS
    assert css.headers["content-type"].startswith("text/css")
    logo = httpx.get(f"{server_url}/static/acme-logo.svg")
    assert logo.status_code == 200
    assert logo.text == LOGO
    assert httpx.get(f"{server_url}/static/../server.toml").status_code == 404


async def test_an_overridden_login_page_signs_in_in_chromium(server_url: str) -> None:
    from playwright.async_api import async_playwright

    discovery = httpx.get(f"{server_url}/.well-known/openid-configuration").json()
    _, challenge = pkce_pair()
    authorize = {"client_id": "browser.web", "response_type": "code", "redirect_uri": REDIRECT_URI,
                 "scope": "openid profile api1", "state": "st-theme", "nonce": "n-theme",
                 "code_challenge": challenge, "code_challenge_method": "S256"}  # fmt: skip
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = await (await chromium.new_context()).new_page()
            await page.route(
                "https://client.example/**",
                lambda route: route.fulfill(status=200, content_type="text/html", body="<title>client</title>ok"),
            )
            violations: list[str] = []
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

            await page.goto(f"{discovery['authorization_endpoint']}?{urlencode(authorize)}")
            await page.wait_for_url("**/account/login?**")
            assert await page.title() == "Acme sign-in"
            assert await page.text_content("#acme-heading") == "Welcome to Acme"
            assert await page.text_content("button[name=button][value=login]") == "Continue to Browser test app"
            styles = await page.evaluate(
                "() => [getComputedStyle(document.body).backgroundColor,"
                " getComputedStyle(document.getElementById('acme-heading')).color,"
                " document.getElementById('acme-logo').naturalWidth]"
            )
            assert styles == ["rgb(1, 2, 3)", "rgb(200, 100, 50)", 10]

            await page.fill("input[name=username]", "alice")
            await page.fill("input[name=password]", "alice")
            await page.click("button[name=button][value=login]")

            await page.wait_for_url("**/consent?**")  # not overridden: the shipped consent page, themed CSS
            assert await page.title() == "Permissions"
            assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(1, 2, 3)"
            async with page.expect_request(lambda request: request.url.startswith(REDIRECT_URI)) as arrival:
                await page.click("button[name=button][value=yes]")
            # the redirect's page must have loaded before the next navigation, or Chromium aborts one of the two
            await page.wait_for_url(f"{REDIRECT_URI}?**")
            returned = parameters((await arrival.value).url)
            assert returned["state"] == "st-theme"
            assert "code" in returned
            assert violations == []
        finally:
            await chromium.close()
