"""A double-clicked "Sign in" (and "Verify" on the second factor's page, "Create account", and "Sign in" again to
re-authenticate with cookie sessions) in real headless Chromium against ``identityserver serve`` (security.md R9):
the browser sends the form twice and keeps the second answer; the server keeps one session (and makes one
account), and the browser is signed in to it."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from identityserver.services.totp import STEP, hotp, secret_from_base32
from tests.support.process import serve

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
CONFIG = """
[options.server_side_sessions]
enabled = true

[options.user_interaction]
create_account_url = "/account/create"

[[users]]
subject_id = "1"
username = "alice"
password = "alice"
"""


def stored_sessions(state: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(state / "identityserver.db") as database:
        return database.execute('SELECT "SubjectId", "SessionId" FROM "ServerSideSessions"').fetchall()


async def double_click(page: Any, selector: str, base: str, posted_to: str, landing: str) -> list[str]:
    """Double-click the button as a person does (raw mouse input: a locator's click would wait for the first
    navigation), wait until the browser shows ``landing``, and return the URLs of the POSTs to ``posted_to``."""
    from playwright.async_api import Error, Request

    posts: list[str] = []

    def count(request: Request) -> None:
        if request.method == "POST" and request.url.split("?")[0] == f"{base}{posted_to}":
            posts.append(request.url)

    page.on("request", count)
    box = await page.locator(selector).bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    await page.mouse.click(x, y)
    await page.wait_for_timeout(40)
    await page.mouse.click(x, y)
    for _ in range(3):  # the second click aborts the first navigation, and waiting on it may report that
        try:
            await page.wait_for_url(f"{base}{landing}")
            break
        except Error as error:
            if "ERR_ABORTED" not in str(error):
                raise
    else:
        raise AssertionError(f"never reached {base}{landing}: {page.url}")
    page.remove_listener("request", count)
    return posts


class SlowNetwork:
    """A route handler that sends a POST on to the server at once (with the browser's cookies of the moment) and
    gives the browser its answer 0.3 s later: a second click in between sends the form again before the first
    answer's cookies arrive, and the server gets both. The first answer is then dropped, as Chromium drops the
    navigation a second submission replaced (under interception it would otherwise still be shown)."""

    def __init__(self) -> None:
        self.sent = 0
        self.answered = 0
        self.one_at_a_time = asyncio.Lock()
        """The server takes the second submission after it answered the first (the in-process tests send them at
        once): else it might finish the second first, and the browser keep an answer that needed no joining."""

    async def __call__(self, route: Any) -> None:
        from playwright.async_api import Error

        request = route.request
        if request.method != "POST":
            await route.continue_()
            return
        index, self.sent = self.sent, self.sent + 1
        headers = {k: v for k, v in (await request.all_headers()).items() if not k.startswith(":")}
        headers.pop("content-length", None)
        async with self.one_at_a_time, httpx.AsyncClient(follow_redirects=False) as client:
            answer = await client.post(request.url, content=request.post_data_buffer, headers=headers)
        await asyncio.sleep(0.3)
        answered = {k: v for k, v in answer.headers.items() if k != "set-cookie"}
        answered["set-cookie"] = "\n".join(answer.headers.get_list("set-cookie"))  # Playwright's form for several
        try:
            with contextlib.suppress(Error):
                if index < self.sent - 1:
                    await route.abort()  # a later click replaced the navigation this answered
                else:
                    await route.fulfill(status=answer.status_code, headers=answered, body=answer.content)
        finally:
            self.answered += 1

    async def settled(self, page: Any, posts: int, landing: str) -> None:
        """Wait until the browser got every answer and shows the page of the last, then check it is ``landing``
        (the first answer may have been shown before the second arrived)."""
        for _ in range(100):
            if self.answered >= posts:
                break
            await asyncio.sleep(0.05)
        assert self.answered >= posts, self.answered
        await page.wait_for_timeout(300)
        await page.wait_for_load_state()
        assert page.url == landing, page.url


async def double_click_on_a_slow_network(page: Any, selector: str, base: str, posted_to: str) -> dict[str, str]:
    """``double_click`` with both submissions reaching the server and the answers arriving 0.3 s late
    (``SlowNetwork``); the browser's cookies once it shows ``/``, the last answer's page."""
    slow = SlowNetwork()
    await page.route(f"{base}{posted_to}*", slow)
    posts = await double_click(page, selector, base, posted_to, "/")
    assert len(posts) == 2, posts  # what the tests are about: the form was sent twice
    await slow.settled(page, 2, f"{base}/")
    return {c["name"]: c["value"] for c in await page.context.cookies(base)}


@contextlib.asynccontextmanager
async def chromium_against_serve(tmp_path: Path, text: str = CONFIG) -> AsyncIterator[tuple[str, Path, Any]]:
    """``identityserver serve`` with the configuration ``text`` and Debian's headless Chromium: the server's base
    URL, its state folder (the SQLite database, readable after the server stopped) and the browser."""
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    config, state = tmp_path / "server.toml", tmp_path / "state"
    config.write_text(text)
    with serve(config, state) as base:
        async with async_playwright() as playwright:
            chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                yield base, state, chromium
            finally:
                await chromium.close()


async def password_page(chromium: Any, base: str) -> Any:
    """A new browser's login page with alice's username and password filled in."""
    page = await (await chromium.new_context()).new_page()
    await page.goto(f"{base}/account/login")
    await page.fill("input[name=username]", "alice")
    await page.fill("input[name=password]", "alice")
    return page


async def test_a_double_clicked_sign_in_keeps_one_session_that_the_browser_holds(tmp_path: Path) -> None:
    async with chromium_against_serve(tmp_path) as (base, state, chromium):
        page = await password_page(chromium, base)
        posts = await double_click(page, "button[name=button][value=login]", base, "/account/login", "/")
        assert len(posts) == 2, posts  # what the test is about: the form was sent twice
        cookies = {c["name"]: c["value"] for c in await page.context.cookies(base)}
    sessions = stored_sessions(state)
    assert sessions == [("1", cookies["idsrv.session"])], (sessions, cookies)


async def test_a_double_clicked_second_factor_keeps_one_session_that_the_browser_holds(tmp_path: Path) -> None:
    """The second submission's code was spent by the first: it answers with the first's session, not "That code
    is not right" (ui/second_factor.py)."""
    async with chromium_against_serve(tmp_path) as (base, state, chromium):
        # alice turns on TOTP on her security page, then signs in again in a fresh browser
        page = await password_page(chromium, base)
        await page.click("button[name=button][value=login]")
        await page.wait_for_url(f"{base}/")
        await page.goto(f"{base}/account/mfa")
        await page.click("button[name=button][value=totp_begin]")
        key = await page.locator("[data-totp-secret]").get_attribute("data-totp-secret")
        assert key
        secret = secret_from_base32(key)
        await page.fill("form:has(button[value=verify]) input[name=code]", hotp(secret, int(time.time()) // STEP))
        await page.click("button[name=button][value=verify]")
        await page.wait_for_selector("text=recovery codes")
        await page.context.close()
        enrolled = stored_sessions(state)
        page = await password_page(chromium, base)
        await page.click("button[name=button][value=login]")
        await page.wait_for_url(f"{base}/account/login/two-factor*")
        # the next time step's code (accepted within the window): later than the step enrolment used
        await page.fill("input[name=code]", hotp(secret, int(time.time()) // STEP + 1))
        # the code page answers within a few milliseconds (no password hash), before a second click: on a slow
        # network, the answers reach the browser later than the server sent them
        verify = "button[name=button][value=verify]"
        cookies = await double_click_on_a_slow_network(page, verify, base, "/account/login/two-factor")
    sessions = stored_sessions(state)
    new = [session for session in sessions if session not in enrolled]
    assert new == [("1", cookies["idsrv.session"])], (sessions, enrolled, cookies)


async def test_a_double_clicked_create_account_makes_one_account_and_one_session_the_browser_holds(
    tmp_path: Path,
) -> None:
    """The second submission finds the username taken by the first's account: it answers with the first's
    session, not "That username is taken"."""
    async with chromium_against_serve(tmp_path) as (base, state, chromium):
        page = await (await chromium.new_context()).new_page()
        await page.goto(f"{base}/account/create")
        await page.fill("input[name=username]", "dave")
        await page.fill("input[name=password]", "correct horse")
        create = "button[name=button][value=create]"
        cookies = await double_click_on_a_slow_network(page, create, base, "/account/create")
    sessions = stored_sessions(state)
    with sqlite3.connect(state / "identityserver.db") as database:
        query = """SELECT "SubjectId" FROM "IdentityServerUsers" WHERE "Username" = 'dave'"""
        accounts = database.execute(query).fetchall()
    assert len(accounts) == 1 and sessions == [(accounts[0][0], cookies["idsrv.session"])], (sessions, accounts)


async def test_a_double_clicked_re_authentication_with_cookie_sessions_keeps_the_sid_the_browser_holds(
    tmp_path: Path,
) -> None:
    """Signed in with cookie sessions, alice signs in again on the login page: the first submission keeps her
    session's ``sid`` and ends its cookie, and the second, sent with that ended cookie, answers with the same
    ``sid`` (docs/sessions.md), which the browser keeps, signed in."""
    cookie_sessions = CONFIG.replace("enabled = true", "enabled = false")
    async with chromium_against_serve(tmp_path, cookie_sessions) as (base, _, chromium):
        page = await password_page(chromium, base)
        await page.click("button[name=button][value=login]")
        await page.wait_for_url(f"{base}/")
        before = {c["name"]: c["value"] for c in await page.context.cookies(base)}
        await page.goto(f"{base}/account/login")
        await page.fill("input[name=username]", "alice")
        await page.fill("input[name=password]", "alice")
        after = await double_click_on_a_slow_network(page, "button[name=button][value=login]", base, "/account/login")
        assert after["idsrv.session"] == before["idsrv.session"], (before, after)
        assert after["idsrv"] != before["idsrv"]  # a re-authentication: a new ticket under the same sid
        await page.goto(f"{base}/account/mfa")  # a page only a signed-in browser is shown
        assert page.url == f"{base}/account/mfa", page.url
