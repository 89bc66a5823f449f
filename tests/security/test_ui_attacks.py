"""security.md §1.17, the login, consent, logout, error and grants pages: the cases tests/ui/test_pages.py does not
cover (password guessing spread over many addresses, the size of form bodies, malformed input that must never
become a server error, what "Revoke access" on the grants page revokes)."""

from __future__ import annotations

import time

import pytest

from identityserver.options import LoginThrottleOptions
from tests.security.support import server_with
from tests.support.browser import Browser, forms, refresh, tokens_for

PAGES_WITH_FORMS = ["/account/login", "/consent", "/account/logout", "/grants"]


@pytest.fixture
async def server():
    async with server_with() as srv:
        yield srv


async def login_attempt(client, password: str):
    browser = Browser(client)
    page = await browser.get("/account/login")
    return await browser.login(page, "alice", password)


async def test_guessing_one_accounts_password_from_many_addresses_is_slowed_but_never_locks_it():
    """security.md item 145 with issue 16 item 2: guesses spread over many addresses slow every attempt for the
    account down (a growing, capped delay) but never refuse it, so a correct password from a new address works."""
    throttle = LoginThrottleOptions(delay=0.02, max_delay=0.1)
    async with server_with(login_throttle=throttle) as server:
        for attempt in range(25):
            async with server.browser(f"198.51.100.{attempt + 1}") as client:
                page = await login_attempt(client, f"guess-{attempt}")
                assert page.status_code == 400
        started = time.monotonic()
        async with server.browser("198.51.100.200") as client:
            page = await login_attempt(client, "alice")
        assert time.monotonic() - started >= throttle.max_delay
    assert "Signed in as" in page.text


@pytest.mark.parametrize("path", PAGES_WITH_FORMS)
async def test_oversized_form_post_to_a_page_is_refused_with_413(server, path):
    """security.md items 19, 82, L5: UI form bodies have the protocol endpoints' size limit."""
    body = b"username=" + b"a" * 1_000_000
    response = await server.client.post(
        path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        b"username=%00%ED%A0%80&password=x&button=login",
        b"username=\xff\xfe&password=\xff&button=login",
        b"returnUrl=%ED%A0%80&button=login&username=a&password=b",
        b"%",
        b"&&&=&=",
        b"button=login&username=" + "\U0001f600".encode() * 200 + b"&password=x",
    ],
)
@pytest.mark.parametrize("path", PAGES_WITH_FORMS)
async def test_malformed_form_bodies_with_a_valid_antiforgery_token_are_never_a_server_error(server, path, body):
    page = await server.client.get("/account/login")
    token = dict(forms(page.text)[0].fields)["__RequestVerificationToken"].encode()
    response = await server.client.post(
        path,
        content=b"__RequestVerificationToken=" + token + b"&" + body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code < 500, (response.status_code, response.text[:200])


@pytest.mark.parametrize(
    "path",
    [
        "/account/login?returnUrl=%ED%A0%80",
        "/account/login?returnUrl=" + "a" * 20_000,
        "/account/login?returnUrl=/connect/authorize/callback?client_id%3Dweb%26redirect_uri%3D%ED%A0%80",
        "/home/error?errorId=" + "A" * 20_000,
        "/home/error?errorId=%00",
        "/account/logout?logoutId=%00",
        "/account/logged-out?logoutId=" + "x" * 20_000,
        "/consent?returnUrl=%00",
        "/grants?x=%ff",
    ],
)
async def test_malformed_query_strings_on_pages_are_never_a_server_error(server, path):
    response = await server.client.get(path)
    assert response.status_code < 500, response.status_code


@pytest.mark.parametrize(
    "cookie",
    [
        "idsrv=%ff%fe",
        'idsrv="\\',
        "idsrv=" + "A" * 5000,
        "idsrv.af=" + "x" * 64,
        "idsrv=a; idsrv=b",
        "idsrv.session=<script>",
    ],
)
async def test_forged_or_malformed_cookies_are_ignored(server, cookie):
    response = await server.client.get("/", headers={"Cookie": cookie})
    assert response.status_code == 200
    assert "Signed in as" not in response.text
    consent = await server.client.get("/grants", headers={"Cookie": cookie})
    assert consent.status_code == 302  # not signed in: sent to the login page


async def test_revoking_access_on_the_grants_page_ends_the_clients_refresh_tokens(server):
    """'Revoke access' removes every grant of the client (Duende RevokeUserConsentAsync), not only the consent."""
    tokens = await tokens_for(server.client)
    page = await server.client.get("/grants")
    after = await Browser(server.client).submit(page, {"button": "revoke"})
    assert "Web app" not in after.text
    response = await refresh(server.client, "web", tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
