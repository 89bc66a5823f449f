"""A rendered login form signs in once (security.md R9): its second submission, at once or later, answers with the
session the first opened; a submission after that session ended opens a fresh one under none of its keys."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import httpx

from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.options import ServerSideSessionsOptions
from identityserver.services.protocols import UserSessionService
from identityserver.services.user_session import SESSION_COOKIE
from identityserver.ui.sign_in_attempts import ATTEMPT_FIELD
from tests.security.support import Served, server_side_session_keys, server_with, session_in
from tests.support.browser import Browser, code_request, forms

SERVER_SIDE = {"server_side_sessions": ServerSideSessionsOptions(enabled=True)}
CHECK_SESSION_COOKIE = "idsrv.session"
BOB = """
[[users]]
subject_id = "2"
username = "bob"
password = "bob"
"""


async def login_form(server: Served, attempt: bool = True) -> tuple[str, list[tuple[str, str]]]:
    """The login page of a pending authorization request: its action and fields, the right password filled in;
    ``attempt``: whether the form carries a sign-in attempt."""
    params, _ = code_request()
    page = await Browser(server.client).get("/connect/authorize?" + urlencode(params))
    form = forms(page.text)[0]
    assert (ATTEMPT_FIELD in dict(form.fields)) == attempt
    return form.action, [*form.fields, ("username", "alice"), ("password", "alice"), ("button", "login")]


async def submit(server: Served, action: str, fields: list[tuple[str, str]]) -> httpx.Response:
    """One submission of the form, as the browser that rendered it (its anti-forgery cookie, no session yet)."""
    cookie = "; ".join(f"{k}={v}" for k, v in server.client.cookies.items() if k.endswith(".af"))
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    answer = await server.client.post(action, content=urlencode(fields), headers=headers)
    assert answer.status_code == 302 and "/connect/authorize/callback" in answer.headers["location"], answer.text
    return answer


async def test_a_double_submitted_login_opens_one_server_side_session() -> None:
    async with server_with(**SERVER_SIDE) as server:
        action, fields = await login_form(server)
        answers = await asyncio.gather(submit(server, action, fields), submit(server, action, fields))
        first, second = [await session_in(server, answer.cookies) for answer in answers]
        assert await server_side_session_keys(server, "1") == [first.key]
        assert (first.key, first.session_id) == (second.key, second.session_id)
        assert {a.cookies[CHECK_SESSION_COOKIE] for a in answers} == {first.session_id}
        # a third submission, after both finished, joins it too
        third = await session_in(server, (await submit(server, action, fields)).cookies)
        assert (third.key, third.session_id) == (first.key, first.session_id)
        assert len(await server_side_session_keys(server, "1")) == 1


async def test_a_double_submitted_login_with_cookie_sessions_is_one_session_that_one_logout_ends() -> None:
    async with server_with() as server:
        action, fields = await login_form(server)
        answers = await asyncio.gather(submit(server, action, fields), submit(server, action, fields))
        first, second = [await session_in(server, answer.cookies) for answer in answers]
        assert (first.session_id, first.ticket_id) == (second.session_id, second.ticket_id)
        await server.services.user_session.sign_out(first, secure=False)
        for answer in answers:  # the other cookie was the same session: ended with it
            cookie = answer.cookies[SESSION_COOKIE]
            assert await server.services.user_session.authenticate({SESSION_COOKIE: cookie}) is None


async def test_a_submission_after_the_session_ended_opens_a_fresh_one_and_no_ended_cookie_comes_back() -> None:
    async with server_with(**SERVER_SIDE) as server:
        action, fields = await login_form(server)
        answer = await submit(server, action, fields)
        ended = await session_in(server, answer.cookies)
        await server.services.user_session.sign_out(ended, secure=False)
        assert await server_side_session_keys(server, "1") == []
        fresh = await session_in(server, (await submit(server, action, fields)).cookies)
        assert fresh.key != ended.key and fresh.session_id != ended.session_id and fresh.ticket_id != ended.ticket_id
        assert await server_side_session_keys(server, "1") == [fresh.key]
        captured = answer.cookies[SESSION_COOKIE]
        assert await server.services.user_session.authenticate({SESSION_COOKIE: captured}) is None


async def test_the_same_form_submitted_by_two_users_opens_a_session_for_each() -> None:
    async with server_with(BOB, **SERVER_SIDE) as server:
        action, fields = await login_form(server)
        as_bob = [(k, v) for k, v in fields if k not in ("username", "password")] + [
            ("username", "bob"),
            ("password", "bob"),
        ]
        alice, bob = [await session_in(server, (await submit(server, action, f)).cookies) for f in (fields, as_bob)]
        assert alice.subject_id != bob.subject_id and alice.session_id != bob.session_id and alice.key != bob.key


async def test_a_second_submission_with_a_wrong_password_joins_nothing() -> None:
    async with server_with(**SERVER_SIDE) as server:
        action, fields = await login_form(server)
        first = await session_in(server, (await submit(server, action, fields)).cookies)
        wrong = [(k, "wrong" if k == "password" else v) for k, v in fields]
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        answer = await server.client.post(action, content=urlencode(wrong), headers=headers)
        assert answer.status_code == 400 and SESSION_COOKIE not in answer.cookies
        assert await server_side_session_keys(server, "1") == [first.key]


async def test_a_form_without_an_attempt_or_with_a_forged_one_still_signs_in_each_time_afresh() -> None:
    async with server_with(**SERVER_SIDE) as server:
        action, fields = await login_form(server)
        for value in (None, "forged", fields[-1][1] * 40):
            changed = [(k, v) for k, v in fields if k != ATTEMPT_FIELD]
            if value is not None:
                changed.append((ATTEMPT_FIELD, value))
            sessions = [await session_in(server, (await submit(server, action, changed)).cookies) for _ in range(2)]
            assert sessions[0].key != sessions[1].key and sessions[0].session_id != sessions[1].session_id


async def test_a_submission_from_the_browser_that_already_holds_the_attempts_session_keeps_it() -> None:
    async with server_with(**SERVER_SIDE) as server:
        action, fields = await login_form(server)
        first = await submit(server, action, fields)
        session = await session_in(server, first.cookies)
        antiforgery = "; ".join(f"{k}={v}" for k, v in server.client.cookies.items() if k.endswith(".af"))
        cookie = f"{antiforgery}; {SESSION_COOKIE}={first.cookies[SESSION_COOKIE]}"
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        again = await server.client.post(action, content=urlencode(fields), headers=headers)
        assert again.status_code == 302 and "/connect/authorize/callback" in again.headers["location"]
        assert SESSION_COOKIE not in again.cookies
        assert await server_side_session_keys(server, "1") == [session.key]
        assert await session_in(server, first.cookies) == session


class UnreachableReplayCache:
    async def add(self, purpose: str, handle: str, lifetime_seconds: float) -> bool:
        raise ConnectionError("replay cache unavailable")


async def test_with_the_replay_cache_unreachable_each_submission_signs_in_afresh(caplog) -> None:
    """The claim only makes a second submission join the first: without it, sign-in goes on under random keys."""

    def configure(builder: IdentityServerBuilder) -> None:
        builder.add_replay_cache(UnreachableReplayCache())

    async with server_with(configure=configure, **SERVER_SIDE) as server:
        action, fields = await login_form(server)
        first, second = [await session_in(server, (await submit(server, action, fields)).cookies) for _ in range(2)]
        assert first.key != second.key and first.session_id != second.session_id
        assert sorted(await server_side_session_keys(server, "1")) == sorted([first.key, second.key])
    assert "could not claim the sign-in attempt" in caplog.text


async def test_an_expired_attempt_signs_in_afresh_each_time() -> None:
    async with server_with(**SERVER_SIDE) as server:
        action, fields = await login_form(server)
        server.clock.advance(server.services.messages.lifetime + 1)
        sessions = [await session_in(server, (await submit(server, action, fields)).cookies) for _ in range(2)]
        assert sessions[0].key != sessions[1].key and sessions[0].session_id != sessions[1].session_id


async def test_a_user_session_service_without_join_signs_in_afresh_on_each_submission() -> None:
    """A ``UserSessionService`` written before ``join`` existed keeps working as it did."""

    class WithoutJoin:
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            if name == "join":
                raise AttributeError(name)
            return getattr(self.inner, name)

    def configure(builder: IdentityServerBuilder) -> None:
        builder.decorate(UserSessionService, WithoutJoin)

    async with server_with(configure=configure, **SERVER_SIDE) as server:
        action, fields = await login_form(server, attempt=False)  # no attempt is sealed for a page it cannot serve
        sessions = [await session_in(server, (await submit(server, action, fields)).cookies) for _ in range(2)]
        assert sessions[0].key != sessions[1].key and sessions[0].session_id != sessions[1].session_id
