"""Interoperability: openid-client (v6, run with Node) as a CIBA client of `identityserver serve`, poll and ping
mode, with the user's approval or denial given in headless Chromium on the /ciba page (CIBA Core §7, §10, §11)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.interop.node import HERE, ensure_node_modules
from tests.support.process import free_port, serve
from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


def config(ping_port: int) -> str:
    return f"""
[[clients]]
client_id = "node.ciba"
client_name = "Node CIBA app"
client_secrets = ["node-secret"]
allowed_grant_types = ["urn:openid:params:grant-type:ciba"]
allowed_scopes = ["openid", "profile", "api1"]
allow_offline_access = true
polling_interval = 1

[[clients]]
client_id = "node.ping"
client_name = "Node ping app"
client_secrets = ["node-secret"]
allowed_grant_types = ["urn:openid:params:grant-type:ciba"]
allowed_scopes = ["openid", "profile", "api1"]
allow_offline_access = true
polling_interval = 1
backchannel_token_delivery_mode = "ping"
backchannel_client_notification_endpoint = "http://127.0.0.1:{ping_port}/ciba-callback"

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
"""


class NodeClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def line(self) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.process.stdout.readline(), 60)  # type: ignore[union-attr]
        assert raw, (await self.process.stderr.read()).decode()  # type: ignore[union-attr]
        return dict(json.loads(raw))


@contextlib.asynccontextmanager
async def node_client(*args: str) -> AsyncIterator[NodeClient]:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(HERE / "ciba_client.mjs"),
        *args,
        cwd=HERE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield NodeClient(process)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def decide_in_chromium(issuer: str, binding_message: str, button: str) -> None:
    """Sign in as alice at /ciba in Chromium and press ``button`` on the request showing the binding message."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = await (await chromium.new_context()).new_page()
            await page.goto(f"{issuer}/ciba")
            await page.wait_for_url("**/account/login?**")
            await page.fill("input[name=username]", "alice")
            await page.fill("input[name=password]", "alice")
            await page.click("button[name=button][value=login]")
            await page.wait_for_url("**/ciba")
            request = page.locator("li.ciba-request", has_text=binding_message)
            assert await request.locator(".client-name").count() == 1
            await request.locator(f"button[name=button][value={button}]").click()
            await page.wait_for_url("**/ciba?*")
        finally:
            await chromium.close()


@pytest.fixture
def issuer(tmp_path: Path) -> Any:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    ensure_node_modules()
    port = free_port()
    (tmp_path / "config.toml").write_text(config(port))
    with serve(tmp_path / "config.toml", tmp_path / "state") as base:
        yield base, port


async def test_openid_client_poll_mode_with_approval_in_chromium(issuer: Any) -> None:
    base, _ = issuer
    async with node_client(base, "node.ciba", "node-secret", "alice", "poll") as node:
        started = (await node.line())["started"]
        assert set(started) >= {"auth_req_id", "expires_in", "interval"} and started["interval"] == 1
        await decide_in_chromium(base, "NODE-42", "yes")
        result = await node.line()
        tokens = result.get("tokens")
        assert tokens, result
        assert tokens["token_type"].lower() == "bearer"
        assert tokens["refresh_token"] and tokens["access_token"]
        assert tokens["claims"]["sub"] == "1" and tokens["claims"]["aud"] == "node.ciba"
        assert set(tokens["scope"].split()) == {"openid", "profile", "api1", "offline_access"}


async def test_openid_client_ping_mode_notified_on_its_listener(issuer: Any) -> None:
    base, port = issuer
    async with node_client(base, "node.ping", "node-secret", "alice", "ping", str(port)) as node:
        started = (await node.line())["started"]
        await decide_in_chromium(base, "NODE-42", "yes")
        ping = (await node.line())["ping"]
        assert ping == {
            "path": "/ciba-callback",
            "authorization": "Bearer node-notification-token",
            "body": {"auth_req_id": started["auth_req_id"]},
        }
        result = await node.line()
        assert result.get("tokens", {}).get("claims", {}).get("sub") == "1", result


async def test_openid_client_sees_access_denied_when_the_user_denies(issuer: Any) -> None:
    base, _ = issuer
    async with node_client(base, "node.ciba", "node-secret", "alice", "poll") as node:
        await node.line()
        await decide_in_chromium(base, "NODE-42", "no")
        assert (await node.line())["error"] == "access_denied"
