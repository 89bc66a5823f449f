"""Interoperability (issue 12 "Verification", JARM and FAPI 2.0): panva's oauth4webapi, as a FAPI 2.0 Message
Signing client of ``identityserver serve`` (``[options] security_profile = "fapi2_message_signing"``), pushes a
signed request object (``issueRequestObject``, ``pushedAuthorizationRequest`` with private_key_jwt and DPoP),
alice signs in in headless Chromium, and the client validates the signed response (``validateJwtAuthResponse``),
redeems the code with DPoP and refreshes (the refresh token is not rotated)."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from identityserver.crypto.jwk import public_jwk
from tests.interop.node import HERE, ensure_node_modules
from tests.interop.test_oauth4webapi_par import private_jwk
from tests.support.process import serve
from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

REDIRECT_URI = "https://fapi-client.example/cb"
CLIENT_KEY = ec.generate_private_key(ec.SECP256R1())
CONFIG = f"""
[options]
security_profile = "fapi2_message_signing"

[options.key_management]
signing_algorithms = ["ES256"]

[[clients]]
client_id = "fapi.node"
client_secrets = [{{ type = "JWK", value = '{json.dumps({**public_jwk(CLIENT_KEY), "kid": "fapi-1"})}' }}]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{REDIRECT_URI}"]
allowed_scopes = ["openid", "api1"]
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
"""


async def sign_in_in_chromium(authorization_url: str) -> str:
    """Open the authorization URL, sign in as alice and return the URL the browser reached at the client."""
    from playwright.async_api import Route, async_playwright

    async def client_app(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html", body="<p>signed in</p>")

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = await (await chromium.new_context()).new_page()
            await page.route("https://fapi-client.example/**", client_app)
            await page.goto(authorization_url)
            await page.wait_for_url("**/account/login?**")
            await page.fill("input[name=username]", "alice")
            await page.fill("input[name=password]", "alice")
            await page.click("button[name=button][value=login]")
            await page.wait_for_url(f"{REDIRECT_URI}?response=**")
            await page.wait_for_load_state()
            return page.url
        finally:
            await chromium.close()


async def test_oauth4webapi_fapi2_message_signing_client_completes_the_flow(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    ensure_node_modules()
    config_file = tmp_path / "config.toml"
    config_file.write_text(CONFIG)
    key_file = tmp_path / "client-key.json"
    key_file.write_text(json.dumps({**private_jwk(CLIENT_KEY), "kid": "fapi-1"}))
    with serve(config_file, tmp_path / "state") as issuer:
        node = subprocess.Popen(
            ["node", str(HERE / "fapi_client.mjs"), issuer, "fapi.node", str(key_file), REDIRECT_URI],
            cwd=HERE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert node.stdout is not None and node.stdin is not None
            first = node.stdout.readline()
            assert first, node.stderr.read() if node.stderr else ""
            callback = await sign_in_in_chromium(json.loads(first)["authorization_url"])
            assert set(callback.split("?", 1)[1].split("=", 1)[0:1]) == {"response"}, callback
            out, err = node.communicate(callback + "\n", timeout=60)
        finally:
            if node.poll() is None:
                node.kill()
                node.wait()
    assert node.returncode == 0, err
    tokens = json.loads(out.strip().splitlines()[-1])
    assert tokens["token_type"].lower() == "dpop" and tokens["refreshed_token_type"].lower() == "dpop"
    assert tokens["sub"] == "1"
    assert tokens["refresh_rotated"] is False
    part = tokens["access_token"].split(".")[1]
    access = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    assert access["cnf"] == {"jkt": tokens["jkt"]} and access["client_id"] == "fapi.node"
