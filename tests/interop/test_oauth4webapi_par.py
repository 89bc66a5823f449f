"""Interoperability (issue 12 "Verification", part A): panva's oauth4webapi pushes the authorization request to
``identityserver serve`` (``pushedAuthorizationRequest`` with private_key_jwt and a DPoP proof; in "jar" mode the
parameters are a request object from ``issueRequestObject``; "jarm" also asks for ``response_mode=jwt`` and
checks the response with ``validateJwtAuthResponse``), alice signs in in headless Chromium at the ``request_uri``
authorization URL, and the client validates the response and redeems the code with DPoP."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from identityserver.crypto.jwk import public_jwk
from tests.interop.node import HERE, ensure_node_modules
from tests.support.process import serve
from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

REDIRECT_URI = "https://par-client.example/cb"
CLIENT_KEY = ec.generate_private_key(ec.SECP256R1())


def config(require_request_object: bool) -> str:
    jwk = json.dumps({**public_jwk(CLIENT_KEY), "kid": "par-client-1"})
    return f"""
[[clients]]
client_id = "par.node"
client_secrets = [{{ type = "JWK", value = '{jwk}' }}]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{REDIRECT_URI}"]
allowed_scopes = ["openid", "api1"]
require_pushed_authorization = true
require_request_object = {str(require_request_object).lower()}
token_endpoint_auth_method = "private_key_jwt"

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


def private_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    d = key.private_numbers().private_value.to_bytes(32, "big")
    return {**public_jwk(key), "d": base64.urlsafe_b64encode(d).rstrip(b"=").decode()}


def payload(jwt: str) -> dict[str, object]:
    part = jwt.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


async def sign_in_in_chromium(authorization_url: str) -> str:
    """Open the authorization URL, sign in as alice and return the URL the browser reached at the client."""
    from playwright.async_api import Route, async_playwright

    async def client_app(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html", body="<p>signed in</p>")

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = await (await chromium.new_context()).new_page()
            await page.route("https://par-client.example/**", client_app)
            await page.goto(authorization_url)
            await page.wait_for_url("**/account/login?**")
            await page.fill("input[name=username]", "alice")
            await page.fill("input[name=password]", "alice")
            await page.click("button[name=button][value=login]")
            await page.wait_for_url(f"{REDIRECT_URI}?**")
            await page.wait_for_load_state()
            return page.url
        finally:
            await chromium.close()


@pytest.mark.parametrize("mode", ["plain", "jar", "jarm"])
async def test_oauth4webapi_pushes_signs_in_in_chromium_and_redeems_with_dpop(tmp_path: Path, mode: str) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    ensure_node_modules()
    config_file = tmp_path / "config.toml"
    config_file.write_text(config(require_request_object=mode != "plain"))
    key_file = tmp_path / "client-key.json"
    key_file.write_text(json.dumps({**private_jwk(CLIENT_KEY), "kid": "par-client-1"}))
    with serve(config_file, tmp_path / "state") as issuer:
        node = subprocess.Popen(
            ["node", str(HERE / "par_client.mjs"), issuer, "par.node", str(key_file), REDIRECT_URI, mode],
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
            pushed = json.loads(first)
            assert pushed["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
            assert pushed["expires_in"] == 60
            assert (pushed["parameters"] == ["request"]) == (mode != "plain")
            callback = await sign_in_in_chromium(pushed["authorization_url"])
            returned = parse_qs(urlsplit(callback).query)
            if mode == "jarm":  # one signed JWT carries code, state and iss (JARM §2.3.1)
                assert set(returned) == {"response"}, callback
            else:
                assert "code" in returned and returned["iss"] == [issuer], callback
            out, err = node.communicate(callback + "\n", timeout=60)
        finally:
            if node.poll() is None:
                node.kill()
                node.wait()
    assert node.returncode == 0, err
    tokens = json.loads(out.strip().splitlines()[-1])
    assert tokens["token_type"].lower() == "dpop"
    assert tokens["sub"] == "1"
    access = payload(tokens["access_token"])
    assert access["client_id"] == "par.node"
    assert access["cnf"] == {"jkt": tokens["jkt"]}  # the key of the proof sent at PAR and at the token endpoint
