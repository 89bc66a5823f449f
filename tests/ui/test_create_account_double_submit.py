"""A rendered account-creation form makes one account and signs in once (security.md R9): a double-click on
"Create account" sends it twice; the second finds the username taken by the first's account and answers with the
session the first opened, when its password is that account's. Another form's submission for a taken username gets
"That username is taken." without its password ever being checked, and two submissions racing for one username
answer 302 and 400, never 500."""

from __future__ import annotations

import asyncio

import httpx

from identityserver.options import ServerSideSessionsOptions, UserInteractionOptions
from identityserver.services.user_session import SESSION_COOKIE, SessionTicket
from identityserver.ui.sign_in_attempts import ATTEMPT_FIELD
from tests.security.support import Served, cookie_header, server_side_session_keys, server_with, session_in
from tests.support.browser import forms

CREATE = {"user_interaction": UserInteractionOptions(create_account_url="/account/create")}
SERVER_SIDE = {**CREATE, "server_side_sessions": ServerSideSessionsOptions(enabled=True)}
DAVE = [("username", "dave"), ("name", "Dave"), ("email", ""), ("password", "correct horse"), ("button", "create")]


async def create_form(server: Served) -> tuple[str, list[tuple[str, str]], str]:
    """The account-creation page in a browser of its own: its action, its fields with dave's filled in, and that
    browser's cookies (the anti-forgery token)."""
    async with server.browser() as client:
        page = await client.get("/account/create")
        form = forms(page.text)[0]
        assert ATTEMPT_FIELD in dict(form.fields)
        names = {name for name, _ in DAVE}
        fields = [*[(k, v) for k, v in form.fields if k not in names], *DAVE]
        return form.action, fields, cookie_header(client.cookies)


def created(answer: httpx.Response) -> bool:
    return answer.status_code == 302 and SESSION_COOKIE in answer.cookies


async def daves_sessions(server: Served) -> list[str]:
    dave = await server.services.users.find_by_username("dave")  # type: ignore[union-attr]
    assert dave is not None
    return await server_side_session_keys(server, dave.subject_id)


async def created_twice(server: Served) -> tuple[tuple[str, list[tuple[str, str]], str], SessionTicket, SessionTicket]:
    """Dave's creation form submitted twice at once, both answers making him signed in: the form (action, fields,
    cookies) and the session each answer names."""
    action, fields, cookie = form = await create_form(server)
    answers = await asyncio.gather(
        server.submit_as_rendered(action, fields, cookie), server.submit_as_rendered(action, fields, cookie)
    )
    assert all(created(a) for a in answers), [(a.status_code, a.text[:200]) for a in answers]
    first, second = [await session_in(server, a.cookies) for a in answers]
    return form, first, second


async def test_a_double_submitted_creation_makes_one_account_and_one_server_side_session() -> None:
    async with server_with(**SERVER_SIDE) as server:
        (action, fields, cookie), first, second = await created_twice(server)
        assert (first.key, first.session_id, first.subject_id) == (second.key, second.session_id, second.subject_id)
        assert await daves_sessions(server) == [first.key]
        # only the first later submission may join (SignInAttempts.claimed): a third is refused, opening nothing
        third = await server.submit_as_rendered(action, fields, cookie)
        assert third.status_code == 400 and SESSION_COOKIE not in third.cookies
        assert await daves_sessions(server) == [first.key]


async def test_a_double_submitted_creation_with_cookie_sessions_is_one_session() -> None:
    async with server_with(**CREATE) as server:
        _, first, second = await created_twice(server)
        assert (first.session_id, first.ticket_id) == (second.session_id, second.ticket_id)


async def test_the_second_submission_with_another_password_or_without_the_attempt_is_refused() -> None:
    async with server_with(**SERVER_SIDE) as server:
        action, fields, cookie = await create_form(server)
        opened = await session_in(server, (await server.submit_as_rendered(action, fields, cookie)).cookies)
        for changed in (
            [(k, "another password" if k == "password" else v) for k, v in fields],
            [(k, v) for k, v in fields if k != ATTEMPT_FIELD],
        ):
            refused = await server.submit_as_rendered(action, changed, cookie)
            assert refused.status_code == 400 and "username is taken" in refused.text
            assert SESSION_COOKIE not in refused.cookies
        assert await daves_sessions(server) == [opened.key]


async def test_another_forms_taken_username_is_refused_without_checking_its_password() -> None:
    """Only the form that made the account may have its password checked on the "taken" path: no other form's
    submission is a password oracle."""
    async with server_with(**SERVER_SIDE) as server:
        action, fields, cookie = await create_form(server)
        assert created(await server.submit_as_rendered(action, fields, cookie))
        users = server.services.users
        assert users is not None
        checked: list[str] = []
        validate = users.validate_credentials

        async def counting(username: str, password: str):  # type: ignore[no-untyped-def]
            checked.append(username)
            return await validate(username, password)

        users.validate_credentials = counting  # type: ignore[method-assign]
        other_action, other_fields, other_cookie = await create_form(server)
        for password in ("correct horse", "another password"):
            changed = [(k, password if k == "password" else v) for k, v in other_fields]
            refused = await server.submit_as_rendered(other_action, changed, other_cookie)
            assert refused.status_code == 400 and "username is taken" in refused.text
            assert SESSION_COOKIE not in refused.cookies
        assert checked == []


async def test_two_forms_racing_for_one_username_get_one_account_and_a_taken_answer_not_a_500() -> None:
    async with server_with(**SERVER_SIDE) as server:
        (action, fields, cookie), (other_action, other_fields, other_cookie) = [
            await create_form(server) for _ in range(2)
        ]
        answers = await asyncio.gather(
            server.submit_as_rendered(action, fields, cookie),
            server.submit_as_rendered(other_action, other_fields, other_cookie),
        )
        assert sorted(a.status_code for a in answers) == [302, 400], [(a.status_code, a.text[:200]) for a in answers]
        assert "username is taken" in next(a for a in answers if a.status_code == 400).text
        assert len(await daves_sessions(server)) == 1
