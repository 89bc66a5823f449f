"""TOTP second factor over HTTP (issue 14 "A second factor"; RFC 6238; docs/sign-in.md): enrolment on the account
page with a QR code and manual key, one code verified before it is on, ten recovery codes shown once; the code step
of a password sign-in with ``amr`` and ``acr`` in the ID token; replayed, wrong and throttled codes refused with
the session unchanged; ``acr_values``/``require_mfa`` forcing the second factor, ``prompt=none`` answered with
``unmet_authentication_requirements``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from identityserver.services.totp import hotp, secret_from_base32
from tests.support.browser import (
    Browser,
    CodeGrant,
    authorize_path,
    code_request,
    forms,
    is_consent_page,
    is_login_page,
    redeem,
    redirect_parameters,
)
from tests.support.client_auth import jwt_parts
from tests.support.data import test_configuration as configuration
from tests.support.server import Server, make_builder, running

SECURITY = "/account/mfa"
STRICT_CLIENT = """
[[clients]]
client_id = "strict"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "profile"]
require_consent = false
require_mfa = true
"""


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with running(make_builder(configuration(STRICT_CLIENT))) as srv:
        yield srv


def code_at(server: Server, key: str, offset_steps: int = 0) -> str:
    return hotp(secret_from_base32(key), int(server.clock.timestamp()) // 30 + offset_steps)


async def password_sign_in(browser: Browser, return_url: str = "") -> httpx.Response:
    page = await browser.get("/account/login" + (f"?returnUrl={return_url}" if return_url else ""))
    return await browser.submit(page, {"username": "alice", "password": "alice", "button": "login"})


async def enrol(server: Server, browser: Browser) -> tuple[str, list[str]]:
    """Turn TOTP on for alice (signed in): the manual key and the recovery codes."""
    page = await browser.get(SECURITY)
    page = await browser.submit(page, {"button": "totp_begin"}, index=len(forms(page.text)) - 1)
    assert page.status_code == 200 and "<svg" in page.text
    key = re.search(r'data-totp-secret="([A-Z2-7]+)">([A-Z2-7 ]+)<', page.text)
    assert key is not None and key.group(2).replace(" ", "") == key.group(1)
    manual = key.group(1)
    confirm = len(forms(page.text)) - 1
    wrong = await browser.submit(
        page, {"button": "verify", "code": "000000" if code_at(server, manual) != "000000" else "111111"}, index=confirm
    )
    assert wrong.status_code == 400 and "not right" in wrong.text
    done = await browser.submit(page, {"button": "verify", "code": code_at(server, manual)}, index=confirm)
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", done.text)
    return manual, codes


async def signed_in_subject(client: httpx.AsyncClient) -> bool:
    return "Signed in as" in (await client.get("/")).text


async def test_enrolment_shows_a_qr_code_and_key_and_needs_one_right_code(server: Server) -> None:
    browser = Browser(server.client)
    await password_sign_in(browser)
    manual, codes = await enrol(server, browser)
    assert len(manual) == 32 and len(codes) == 10 and len(set(codes)) == 10
    page = await browser.get(SECURITY)
    assert "10 recovery codes left" in page.text and codes[0] not in page.text  # shown once
    enrolment = await server.services.totp.enrolment("1")  # type: ignore[union-attr]
    assert enrolment is not None and enrolment.enabled
    assert manual not in enrolment.secret and all(code not in enrolment.recovery_codes for code in codes)


async def test_the_security_page_needs_a_signed_in_user(server: Server) -> None:
    response = await server.client.get(SECURITY)
    assert response.status_code == 302 and "/account/login?returnUrl=%2Faccount%2Fmfa" in response.headers["location"]


async def test_password_sign_in_then_code_gives_pwd_otp_mfa_and_acr(server: Server) -> None:
    browser = Browser(server.client)
    await password_sign_in(browser)
    manual, _ = await enrol(server, browser)
    server.client.cookies.clear()
    server.clock.advance(seconds=60)
    params, verifier = code_request(client_id="strict", scope="openid profile")
    page = await browser.get(authorize_path(params))
    step = await browser.submit(page, {"username": "alice", "password": "alice", "button": "login"})
    assert step.status_code == 200 and "/account/login/two-factor" in step.url.path
    assert not await signed_in_subject(
        httpx.AsyncClient(
            transport=server.client._transport, base_url=str(server.client.base_url), cookies=server.client.cookies
        )
    )
    wrong = await browser.submit(step, {"code": code_at(server, manual, 5), "button": "verify"})
    assert wrong.status_code == 400 and "not right" in wrong.text
    final = await browser.submit(step, {"code": code_at(server, manual), "button": "verify"})
    assert final.status_code == 302, final.text[:300]
    returned = redirect_parameters(final)
    tokens = (await redeem(server.client, CodeGrant(returned["code"], verifier, params, returned))).json()
    claims = jwt_parts(tokens["id_token"])[1]
    assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == "mfa"


async def test_a_used_code_is_refused_and_a_recovery_code_works_once(server: Server) -> None:
    browser = Browser(server.client)
    await password_sign_in(browser)
    manual, codes = await enrol(server, browser)
    server.clock.advance(seconds=60)
    used = code_at(server, manual)
    for attempt, expected in ((used, 302), (used, 400), (codes[3], 302), (codes[3], 400)):
        server.client.cookies.clear()
        step = await password_sign_in(browser)
        answer = await server.client.post(
            "/account/login/two-factor",
            data={**dict(forms(step.text)[0].fields), "code": attempt, "button": "verify"},
        )
        assert answer.status_code == expected, (attempt, answer.text[:200])
        assert (answer.status_code == 302) == ("idsrv=" in answer.headers.get("set-cookie", ""))


async def test_wrong_codes_are_throttled(server: Server) -> None:
    browser = Browser(server.client)
    await password_sign_in(browser)
    manual, _ = await enrol(server, browser)
    server.client.cookies.clear()
    step = await password_sign_in(browser)
    statuses = []
    for _ in range(6):
        answer = await browser.submit(step, {"code": "abcdef", "button": "verify"})
        statuses.append(answer.status_code)
    assert statuses[-1] == 429 and statuses[0] == 400
    blocked = await browser.submit(step, {"code": code_at(server, manual), "button": "verify"})
    assert blocked.status_code == 429 and not await signed_in_subject(server.client)


async def test_the_code_step_without_a_pending_sign_in_is_an_error_page(server: Server) -> None:
    page = await server.client.get("/account/login/two-factor")
    assert page.status_code == 400 and "expired" in page.text
    server.client.cookies.set("idsrv.mfa", "forged")
    page = await server.client.get("/account/login/two-factor")
    assert page.status_code == 400


async def test_the_pending_sign_in_expires(server: Server) -> None:
    browser = Browser(server.client)
    await password_sign_in(browser)
    manual, _ = await enrol(server, browser)
    server.client.cookies.clear()
    step = await password_sign_in(browser)
    server.clock.advance(seconds=301)
    answer = await browser.submit(step, {"code": code_at(server, manual), "button": "verify"})
    assert answer.status_code == 400 and "expired" in answer.text and not await signed_in_subject(server.client)


async def test_turning_off_needs_a_current_code(server: Server) -> None:
    browser = Browser(server.client)
    await password_sign_in(browser)
    manual, _ = await enrol(server, browser)
    server.clock.advance(seconds=60)
    page = await browser.get(SECURITY)
    index = len(forms(page.text)) - 1
    refused = await browser.submit(page, {"button": "totp_disable", "code": "12345"}, index=index)
    assert refused.status_code == 400
    done = await browser.submit(page, {"button": "totp_disable", "code": code_at(server, manual)}, index=index)
    assert done.status_code == 200 and "Set up an authenticator app" in done.text
    assert await server.services.totp.enrolment("1") is None  # type: ignore[union-attr]


async def test_mfa_acr_value_and_require_mfa_force_the_second_factor(server: Server) -> None:
    browser = Browser(server.client)
    await password_sign_in(browser)  # a password-only session
    manual, _ = await enrol(server, browser)
    for extra in ({"client_id": "web", "acr_values": "mfa"}, {"client_id": "strict", "scope": "openid profile"}):
        params, _ = code_request(**extra, prompt="none")
        answer = await server.client.get(authorize_path(params))
        assert redirect_parameters(answer)["error"] == "unmet_authentication_requirements", extra
        params, _ = code_request(**extra)
        page = await browser.get(authorize_path(params))
        assert is_login_page(page), extra  # the password-only session is not enough
    step = await browser.submit(page, {"username": "alice", "password": "alice", "button": "login"})
    server.clock.advance(seconds=60)
    final = await browser.submit(step, {"code": code_at(server, manual), "button": "verify"})
    assert "code" in redirect_parameters(final)
    params, _ = code_request(client_id="strict", scope="openid", prompt="none")
    assert "code" in redirect_parameters(await server.client.get(authorize_path(params)))


async def test_a_user_without_a_second_factor_gets_unmet_authentication_requirements(server: Server) -> None:
    browser = Browser(server.client)
    params, _ = code_request(client_id="strict", scope="openid")
    page = await browser.get(authorize_path(params))
    final = await browser.submit(page, {"username": "alice", "password": "alice", "button": "login"})
    assert redirect_parameters(final)["error"] == "unmet_authentication_requirements"
    assert not await signed_in_subject(server.client)
    assert not is_consent_page(final)


async def test_discovery_lists_the_mfa_acr_value(server: Server) -> None:
    discovery = (await server.client.get("/.well-known/openid-configuration")).json()
    assert discovery["acr_values_supported"] == ["mfa"]


async def test_acr_values_no_code_can_satisfy_are_refused_before_the_code_step(server: Server) -> None:
    browser = Browser(server.client)
    await password_sign_in(browser)
    await enrol(server, browser)
    server.client.cookies.clear()
    params, _ = code_request(acr_values="phrh")
    page = await browser.get(authorize_path(params))
    final = await browser.submit(page, {"username": "alice", "password": "alice", "button": "login"})
    assert redirect_parameters(final)["error"] == "unmet_authentication_requirements"
    assert "idsrv.mfa" not in final.headers.get("set-cookie", "")
