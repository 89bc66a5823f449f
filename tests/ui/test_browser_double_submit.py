"""A double-clicked "Sign in" in real headless Chromium against ``identityserver serve`` (security.md R9): the
browser sends the form twice and keeps the second answer; the server keeps one session, and the browser is signed
in to it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

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


async def test_a_double_clicked_sign_in_keeps_one_session_that_the_browser_holds(tmp_path: Path) -> None:
    from playwright.async_api import Error, Request, async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    config, state = tmp_path / "server.toml", tmp_path / "state"
    config.write_text(CONFIG)
    with serve(config, state) as base:
        async with async_playwright() as playwright:
            chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = await (await chromium.new_context()).new_page()
                posts: list[str] = []

                def count(request: Request) -> None:
                    if request.method == "POST" and request.url.startswith(f"{base}/account/login"):
                        posts.append(request.url)

                page.on("request", count)
                await page.goto(f"{base}/account/login")
                await page.fill("input[name=username]", "alice")
                await page.fill("input[name=password]", "alice")
                # a person's double-click (raw mouse input: a locator's click would wait for the first navigation)
                box = await page.locator("button[name=button][value=login]").bounding_box()
                assert box is not None
                x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
                await page.mouse.click(x, y)
                await page.wait_for_timeout(40)
                await page.mouse.click(x, y)
                for _ in range(3):  # the second click aborts the first navigation, and waiting on it may report that
                    try:
                        await page.wait_for_url(f"{base}/")
                        break
                    except Error as error:
                        if "ERR_ABORTED" not in str(error):
                            raise
                else:
                    raise AssertionError(f"never reached {base}/")
                assert len(posts) == 2, posts  # what the test is about: the form was sent twice
                cookies = {c["name"]: c["value"] for c in await page.context.cookies(base)}
            finally:
                await chromium.close()
        sessions = stored_sessions(state)
    assert sessions == [("1", cookies["idsrv.session"])], (sessions, cookies)
