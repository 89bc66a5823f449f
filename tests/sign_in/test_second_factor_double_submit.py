"""A rendered second-factor page signs in once (security.md R9): its second submission carries the code the first
one spent, and answers with the session the first opened. A spent code on any other form, a wrong code, a spent
recovery code, a form without its attempt and any submission after the first joining one are refused as before,
and a refused submission opens nothing."""

from __future__ import annotations

import asyncio

import httpx

from identityserver.options import ServerSideSessionsOptions
from identityserver.services.user_session import SESSION_COOKIE, SessionTicket
from identityserver.ui.sign_in_attempts import ATTEMPT_FIELD
from tests.security.support import Served, cookie_header, server_side_session_keys, server_with, session_in
from tests.sign_in.test_second_factor import code_at, enrol, password_sign_in
from tests.support.browser import Browser, authorize_path, code_request, forms

SERVER_SIDE = {"server_side_sessions": ServerSideSessionsOptions(enabled=True)}
CODE_PAGE = "/account/login/two-factor"


async def enrolled(server: Served) -> tuple[str, list[str]]:
    """Alice with TOTP on (key, recovery codes), signed out, a minute later (the enrolment's step is past)."""
    browser = Browser(server.client)
    await password_sign_in(browser)
    key, codes = await enrol(server, browser)
    await server.services.user_session.sign_out(await session_in(server, server.client.cookies), secure=False)
    server.client.cookies.clear()
    server.clock.advance(seconds=60)
    return key, codes


async def code_form(server: Served, code: str) -> tuple[str, list[tuple[str, str]], str]:
    """A pending authorization request's code page, after alice's password in a browser of its own: its action,
    its fields with ``code`` filled in, and that browser's cookies (the pending sign-in, the anti-forgery token)."""
    async with server.browser() as client:
        browser = Browser(client)
        params, _ = code_request()
        page = await browser.get(authorize_path(params))
        step = await browser.submit(page, {"username": "alice", "password": "alice", "button": "login"})
        assert step.status_code == 200 and step.url.path == CODE_PAGE, step.text[:300]
        form = forms(step.text)[0]
        assert ATTEMPT_FIELD in dict(form.fields)
        fields = [*[(k, v) for k, v in form.fields if k != "code"], ("code", code), ("button", "verify")]
        return form.action, fields, cookie_header(client.cookies)


def signed_in_answer(answer: httpx.Response) -> bool:
    return answer.status_code == 302 and "/connect/authorize/callback" in answer.headers["location"]


async def sessions_of_alice(server: Served) -> list[str]:
    return await server_side_session_keys(server, "1")


async def double_click(server: Served, action: str, fields: list[tuple[str, str]], cookie: str) -> list[httpx.Response]:
    """Two submissions of one form, the second sent while the first is in flight, as a double-click sends them."""

    async def second() -> httpx.Response:
        await asyncio.sleep(0.005)
        return await server.submit_as_rendered(action, fields, cookie)

    return list(await asyncio.gather(server.submit_as_rendered(action, fields, cookie), second()))


async def verified_twice(
    server: Served,
) -> tuple[tuple[str, list[tuple[str, str]], str], list[httpx.Response], SessionTicket, SessionTicket]:
    """Alice's code page, TOTP on, double-clicked with the right code, both answers signing her in: the form
    (action, fields, cookies), the answers and the session each names."""
    key, _ = await enrolled(server)
    action, fields, cookie = form = await code_form(server, code_at(server, key))
    answers = await double_click(server, action, fields, cookie)
    assert all(signed_in_answer(a) for a in answers), [(a.status_code, a.text[:200]) for a in answers]
    first, second = [await session_in(server, a.cookies) for a in answers]
    return form, answers, first, second


async def test_a_double_submitted_code_page_opens_one_server_side_session() -> None:
    async with server_with(**SERVER_SIDE) as server:
        (action, fields, cookie), _, first, second = await verified_twice(server)
        assert (first.key, first.session_id) == (second.key, second.session_id)
        assert await sessions_of_alice(server) == [first.key]
        assert {"otp", "mfa"} <= set(first.amr) and first.acr == "mfa"
        # only the first later submission may join (SignInAttempts.claimed): a third is refused, opening nothing
        third = await server.submit_as_rendered(action, fields, cookie)
        assert third.status_code == 400 and SESSION_COOKIE not in third.cookies
        assert await sessions_of_alice(server) == [first.key]


async def test_a_double_submitted_code_page_with_cookie_sessions_is_one_session_that_one_logout_ends() -> None:
    async with server_with() as server:
        _, answers, first, second = await verified_twice(server)
        assert (first.session_id, first.ticket_id) == (second.session_id, second.ticket_id)
        await server.services.user_session.sign_out(first, secure=False)
        for answer in answers:
            cookie_value = answer.cookies[SESSION_COOKIE]
            assert await server.services.user_session.authenticate({SESSION_COOKIE: cookie_value}) is None


async def test_a_spent_code_on_another_form_is_refused_and_opens_nothing() -> None:
    """The one-time use of a time step still holds: only the form whose submission spent it joins."""
    for options in (SERVER_SIDE, {}):
        async with server_with(**options) as server:
            key, _ = await enrolled(server)
            code = code_at(server, key)
            action, fields, cookie = await code_form(server, code)
            assert signed_in_answer(await server.submit_as_rendered(action, fields, cookie))
            other_action, other_fields, other_cookie = await code_form(server, code)
            for _ in range(3):  # its first try marks the attempt asked about: no later try passes for a join
                refused = await server.submit_as_rendered(other_action, other_fields, other_cookie)
                assert refused.status_code == 400 and "not right" in refused.text
                assert SESSION_COOKIE not in refused.cookies


async def test_a_second_submission_after_the_session_ended_is_refused_and_opens_nothing() -> None:
    async with server_with(**SERVER_SIDE) as server:
        key, _ = await enrolled(server)
        action, fields, cookie = await code_form(server, code_at(server, key))
        answer = await server.submit_as_rendered(action, fields, cookie)
        await server.services.user_session.sign_out(await session_in(server, answer.cookies), secure=False)
        again = await server.submit_as_rendered(action, fields, cookie)
        assert again.status_code == 400 and SESSION_COOKIE not in again.cookies
        assert await sessions_of_alice(server) == []


async def test_a_wrong_code_a_spent_recovery_code_or_no_attempt_on_the_second_submission_joins_nothing() -> None:
    async with server_with(**SERVER_SIDE) as server:
        key, recovery = await enrolled(server)
        action, fields, cookie = await code_form(server, code_at(server, key))
        opened = await session_in(server, (await server.submit_as_rendered(action, fields, cookie)).cookies)
        wrong = "000000" if code_at(server, key) != "000000" else "111111"
        for changed in (
            [(k, wrong if k == "code" else v) for k, v in fields],
            [(k, v) for k, v in fields if k != ATTEMPT_FIELD],
            [(k, v) for k, v in fields if k != ATTEMPT_FIELD] + [(ATTEMPT_FIELD, "forged")],
        ):
            refused = await server.submit_as_rendered(action, changed, cookie)
            assert refused.status_code == 400 and SESSION_COOKIE not in refused.cookies
        # a recovery code cannot be told spent from wrong: its second submission is refused
        action, fields, cookie = await code_form(server, recovery[0])
        assert signed_in_answer(await server.submit_as_rendered(action, fields, cookie))
        refused = await server.submit_as_rendered(action, fields, cookie)
        assert refused.status_code == 400 and SESSION_COOKIE not in refused.cookies
        assert opened.key in await sessions_of_alice(server) and len(await sessions_of_alice(server)) == 2


async def test_a_second_submission_sent_with_the_first_answers_cookies_keeps_that_session() -> None:
    """The browser took the first answer's cookies before it sent the second (the pending sign-in cleared, the
    session set): signed in already, nothing changes. Another form's session does not pass for this one's."""
    async with server_with(**SERVER_SIDE) as server:
        key, _ = await enrolled(server)
        action, fields, cookie = await code_form(server, code_at(server, key))
        first = await server.submit_as_rendered(action, fields, cookie)
        antiforgery = "; ".join(p for p in cookie.split("; ") if p.split("=")[0].endswith(".af"))
        held = f"{antiforgery}; {SESSION_COOKIE}={first.cookies[SESSION_COOKIE]}"
        again = await server.submit_as_rendered(action, fields, held)
        assert signed_in_answer(again) and SESSION_COOKIE not in again.cookies
        assert await sessions_of_alice(server) == [(await session_in(server, first.cookies)).key]
        server.clock.advance(seconds=30)
        other_action, other_fields, _ = await code_form(server, code_at(server, key))
        refused = await server.submit_as_rendered(other_action, other_fields, held)
        assert refused.status_code == 400 and "expired" in refused.text


async def test_an_attempt_rendered_in_another_form_is_not_read_by_the_code_page() -> None:
    """Each form's attempts are sealed as its own kind: a claim a login form's submission made is never taken for
    the code page's."""
    async with server_with(**SERVER_SIDE) as server:
        key, _ = await enrolled(server)
        async with server.browser() as client:
            login = forms((await client.get("/account/login")).text)[0]
        borrowed = dict(login.fields)[ATTEMPT_FIELD]
        action, fields, cookie = await code_form(server, code_at(server, key))
        changed = [(k, v) for k, v in fields if k != ATTEMPT_FIELD] + [(ATTEMPT_FIELD, borrowed)]
        assert signed_in_answer(await server.submit_as_rendered(action, changed, cookie))
        refused = await server.submit_as_rendered(action, changed, cookie)
        assert refused.status_code == 400 and SESSION_COOKIE not in refused.cookies
