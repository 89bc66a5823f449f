"""Regression tests of the adversarial review of passkeys and TOTP (docs/review-findings.md): each failed before
its fix."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from identityserver.ui.sign_in_attempts import ATTEMPT_FIELD
from tests.sign_in.test_passkeys import ORIGIN, RP_ID, passkey_sign_in, post, register, token_of
from tests.sign_in.test_second_factor import code_at, enrol, password_sign_in
from tests.support.browser import Browser, forms
from tests.support.data import test_configuration as configuration
from tests.support.server import Server, make_builder, running
from tests.support.webauthn_authenticator import SoftAuthenticator

STRICT_ROPC = """
[[clients]]
client_id = "strict.ropc"
client_secrets = ["secret"]
allowed_grant_types = ["password"]
allowed_scopes = ["openid"]
require_mfa = true
"""


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with running(make_builder(configuration(STRICT_ROPC))) as srv:
        yield srv


async def test_a_session_without_the_second_factor_cannot_add_a_passkey_to_an_account_that_has_one(
    server: Server,
) -> None:
    # A passkey signs in with amr mfa: adding one from a session that proved only a password (a session from
    # before TOTP was turned on, or a stolen one) would turn that password into a second factor.
    browser = Browser(server.client)
    await password_sign_in(browser)
    manual, _ = await enrol(server, browser)
    page = await browser.get("/account/passkeys")
    fields = token_of(page, "passkey-register")
    options = await post(server.client, "/account/passkeys/register/options", fields)
    assert options.status_code == 403 and "second factor" in options.json()["error_description"]
    assert await server.services.passkeys.credentials("1") == []  # type: ignore[union-attr]
    # signed in again with the code, the same user adds the passkey
    server.client.cookies.clear()
    server.clock.advance(seconds=60)
    step = await password_sign_in(browser)
    done = await browser.submit(step, {"code": code_at(server, manual), "button": "verify"})
    assert done.status_code in (200, 302)
    key = SoftAuthenticator(RP_ID, ORIGIN)
    assert (await register(server, key)).status_code == 200
    server.client.cookies.clear()
    assert (await passkey_sign_in(server.client, key)).status_code == 200


async def test_a_password_session_cannot_add_a_second_passkey_for_mfa(server: Server) -> None:
    browser = Browser(server.client)
    await password_sign_in(browser)
    page = await browser.get("/account/passkeys")
    fields = token_of(page, "passkey-register")
    early = (await post(server.client, "/account/passkeys/register/options", fields)).json()  # while allowed
    first = SoftAuthenticator(RP_ID, ORIGIN)
    assert (await register(server, first)).status_code == 200  # the first one: nothing stronger exists yet
    attacker = SoftAuthenticator(RP_ID, ORIGIN)
    refused = await post(server.client, "/account/passkeys/register/options", fields)
    assert refused.status_code == 403
    late = {**fields, "state": early["state"], "response": attacker.create(early["options"]), "name": "x"}
    assert (await post(server.client, "/account/passkeys/register", late)).status_code == 403
    assert len(await server.services.passkeys.credentials("1")) == 1  # type: ignore[union-attr]
    server.client.cookies.clear()
    assert (await passkey_sign_in(server.client, first)).status_code == 200  # a passkey session (mfa) may
    assert (await register(server, attacker)).status_code == 200


async def test_the_same_totp_code_posted_twice_at_once_signs_in_once(server: Server) -> None:
    browser = Browser(server.client)
    await password_sign_in(browser)
    manual, codes = await enrol(server, browser)
    server.clock.advance(seconds=60)
    # the code is spent once: of the posts without the form's sign-in attempt, one wins
    for attempt in (code_at(server, manual), codes[0]):
        server.client.cookies.clear()
        step = await password_sign_in(browser)
        data = {**dict(forms(step.text)[0].fields), "code": attempt, "button": "verify"}
        del data[ATTEMPT_FIELD]
        answers = await asyncio.gather(*(server.client.post("/account/login/two-factor", data=data) for _ in range(8)))
        assert sorted(a.status_code for a in answers) == [302] + [400] * 7, attempt
    # with it, a double submission is the same form sent again (security.md R9): the second joins the one session
    server.clock.advance(seconds=30)
    server.client.cookies.clear()
    step = await password_sign_in(browser)
    data = {**dict(forms(step.text)[0].fields), "code": code_at(server, manual), "button": "verify"}
    answers = await asyncio.gather(*(server.client.post("/account/login/two-factor", data=data) for _ in range(2)))
    assert [a.status_code for a in answers] == [302] * 2
    # (one sent after the jar took the first's cookies finds that session held, and sets none)
    assert len({a.cookies["idsrv.session"] for a in answers if "idsrv.session" in a.cookies}) == 1


async def test_the_password_grant_does_not_skip_a_users_second_factor(server: Server) -> None:
    # RFC 6749 §4.3 carries a password only: a user with TOTP on would get tokens without the code
    def grant() -> dict[str, str]:
        return {"grant_type": "password", "username": "alice", "password": "alice", "scope": "openid"}

    before = await server.client.post("/connect/token", data=grant(), auth=("ropc", "secret"))
    assert before.status_code == 200
    browser = Browser(server.client)
    await password_sign_in(browser)
    await enrol(server, browser)
    after = await server.client.post("/connect/token", data=grant(), auth=("ropc", "secret"))
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"
    assert "second factor" in after.json()["error_description"]


async def test_the_password_grant_is_refused_to_a_client_that_requires_mfa(server: Server) -> None:
    grant = {"grant_type": "password", "username": "alice", "password": "alice", "scope": "openid"}
    refused = await server.client.post("/connect/token", data=grant, auth=("strict.ropc", "secret"))
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert (await server.client.post("/connect/token", data=grant, auth=("ropc", "secret"))).status_code == 200
