"""Interoperability (issue 11 "Verification"): panva's openid-client runs the device flow against ``identityserver
serve`` (``initiateDeviceAuthorization``, then ``pollDeviceAuthorizationGrant``) while alice opens
``verification_uri_complete`` in headless Chromium, signs in and approves; once plainly and once with DPoP."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from tests.interop.node import HERE, ensure_node_modules
from tests.support.process import serve
from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

CONFIG = """
[options.device_flow]
interval = 1

[[clients]]
client_id = "tv"
client_name = "Living-room TV"
require_client_secret = false
allowed_grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
allowed_scopes = ["openid", "profile", "api1"]
allow_offline_access = true

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


def payload(jwt: str) -> dict[str, object]:
    part = jwt.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


async def approve_in_chromium(verification_uri_complete: str, user_code: str) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = await (await chromium.new_context()).new_page()
            await page.goto(verification_uri_complete)
            await page.wait_for_url("**/account/login?**")
            await page.fill("input[name=username]", "alice")
            await page.fill("input[name=password]", "alice")
            await page.click("button[name=button][value=login]")
            await page.wait_for_url("**/device?userCode=**")
            # the code is pre-filled and the client and scopes are shown; nothing is approved until the click
            assert await page.input_value("input[name=user_code]") == user_code
            assert "Living-room TV" in await page.content()
            assert await page.locator("input[name=scopes_consented][value=api1]").is_checked()
            await page.click("button[name=button][value=yes]")
            await page.wait_for_selector("text=Success")
        finally:
            await chromium.close()


@pytest.mark.parametrize("mode", ["bearer", "dpop"])
async def test_openid_client_device_flow_approved_in_chromium(tmp_path: Path, mode: str) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    ensure_node_modules()
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    with serve(config, tmp_path / "state") as issuer:
        node = subprocess.Popen(
            ["node", str(HERE / "device_client.mjs"), issuer, "tv", mode],
            cwd=HERE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert node.stdout is not None
            first = node.stdout.readline()
            assert first, node.stderr.read() if node.stderr else ""
            device = json.loads(first)
            assert device["verification_uri"] == f"{issuer}/device"
            assert device["verification_uri_complete"] == f"{issuer}/device?userCode={device['user_code']}"
            assert device["expires_in"] == 300 and device["interval"] == 1
            await approve_in_chromium(device["verification_uri_complete"], device["user_code"])
            out, err = node.communicate(timeout=60)
        finally:
            if node.poll() is None:
                node.kill()
                node.wait()
    assert node.returncode == 0, err
    tokens = json.loads(out.strip().splitlines()[-1])
    assert tokens["token_type"].lower() == ("dpop" if mode == "dpop" else "bearer")
    assert tokens["refresh_token"] and set(tokens["scope"].split()) == {"openid", "profile", "api1", "offline_access"}
    assert tokens["claims"]["sub"] == "1" and tokens["claims"]["aud"] == "tv"
    access = payload(tokens["access_token"])
    assert access["sub"] == "1" and access["client_id"] == "tv"
    assert ("cnf" in access) == (mode == "dpop")
