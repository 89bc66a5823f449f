"""A double-clicked "Sign in" (and "Verify" on the second factor's page) in real headless Chromium against
``identityserver serve`` (security.md R9): the browser sends the form twice and keeps the second answer; the
server keeps one session, and the browser is signed in to it."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from identityserver.services.totp import STEP, hotp, secret_from_base32
from tests.support.process import serve

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
CONFIG = """
[options.server_side_sessions]
enabled = true

[[users]]
subject_id = "1"
username = "alice"
password = "alice"
"""


def stored_sessions(state: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(state / "identityserver.db") as database:
        return database.execute('SELECT "SubjectId", "SessionId" FROM "ServerSideSessions"').fetchall()


async def double_click(
    page: Any, selector: str, base: str, posted_to: str, landing: str, gap_ms: int = 40
) -> list[str]:
    """Double-click the button as a person does (raw mouse input: a locator's click would wait for the first
    navigation; ``gap_ms`` between the clicks), wait until the browser shows ``landing``, and return the URLs of
    the POSTs to ``posted_to``."""
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
    await page.wait_for_timeout(gap_ms)
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


async def test_a_double_clicked_sign_in_keeps_one_session_that_the_browser_holds(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    config, state = tmp_path / "server.toml", tmp_path / "state"
    config.write_text(CONFIG)
    with serve(config, state) as base:
        async with async_playwright() as playwright:
            chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = await (await chromium.new_context()).new_page()
                await page.goto(f"{base}/account/login")
                await page.fill("input[name=username]", "alice")
                await page.fill("input[name=password]", "alice")
                posts = await double_click(page, "button[name=button][value=login]", base, "/account/login", "/")
                assert len(posts) == 2, posts  # what the test is about: the form was sent twice
                cookies = {c["name"]: c["value"] for c in await page.context.cookies(base)}
            finally:
                await chromium.close()
        sessions = stored_sessions(state)
    assert sessions == [("1", cookies["idsrv.session"])], (sessions, cookies)


async def test_a_double_clicked_second_factor_keeps_one_session_that_the_browser_holds(tmp_path: Path) -> None:
    """The second submission's code was spent by the first: it answers with the first's session, not "That code
    is not right" (ui/second_factor.py)."""
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    config, state = tmp_path / "server.toml", tmp_path / "state"
    config.write_text(CONFIG)
    with serve(config, state) as base:
        async with async_playwright() as playwright:
            chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                context = await chromium.new_context()
                page = await context.new_page()
                # alice turns on TOTP on her security page, then signs in again in a fresh browser
                await page.goto(f"{base}/account/login")
                await page.fill("input[name=username]", "alice")
                await page.fill("input[name=password]", "alice")
                await page.click("button[name=button][value=login]")
                await page.wait_for_url(f"{base}/")
                await page.goto(f"{base}/account/mfa")
                await page.click("button[name=button][value=totp_begin]")
                key = await page.locator("[data-totp-secret]").get_attribute("data-totp-secret")
                assert key
                secret = secret_from_base32(key)
                await page.fill(
                    "form:has(button[value=verify]) input[name=code]", hotp(secret, int(time.time()) // STEP)
                )
                await page.click("button[name=button][value=verify]")
                await page.wait_for_selector("text=recovery codes")
                await context.close()
                enrolled = stored_sessions(state)
                page = await (await chromium.new_context()).new_page()
                await page.goto(f"{base}/account/login")
                await page.fill("input[name=username]", "alice")
                await page.fill("input[name=password]", "alice")
                await page.click("button[name=button][value=login]")
                await page.wait_for_url(f"{base}/account/login/two-factor*")
                # the next time step's code (accepted within the window): later than the step enrolment used
                await page.fill("input[name=code]", hotp(secret, int(time.time()) // STEP + 1))
                # the code page answers within a few milliseconds (no password hash): a quick double-click
                posts = await double_click(
                    page, "button[name=button][value=verify]", base, "/account/login/two-factor", "/", gap_ms=15
                )
                assert len(posts) == 2, posts
                cookies = {c["name"]: c["value"] for c in await page.context.cookies(base)}
            finally:
                await chromium.close()
        sessions = stored_sessions(state)
    new = [session for session in sessions if session not in enrolled]
    assert new == [("1", cookies["idsrv.session"])], (sessions, enrolled, cookies)
