"""A double-submitted re-authentication signs in once with cookie sessions too (docs/sessions.md, security.md R9):
the form re-authenticates the user the browser is signed in as (``prompt=login``), and both submissions carry that
session's cookie. The first keeps its ``sid`` and clients and ends the cookie; the second, sent with the ended
cookie, answers with the same session, not one of its own without the clients that a logout must reach. A cookie
that a logout, or another form's re-authentication, ended lends its ``sid`` to nothing. With server-side sessions the
second joins the row the first stored, which carries both."""

from __future__ import annotations

import pytest

from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.options import ServerSideSessionsOptions
from identityserver.services.protocols import UserSessionService
from identityserver.services.user_session import SESSION_COOKIE, SessionTicket
from identityserver.ui.sign_in_attempts import ATTEMPT_FIELD
from tests.security.support import Served, cookie_header, server_side_session_keys, server_with, session_in
from tests.sign_in.test_second_factor import code_at, enrol, password_sign_in
from tests.sign_in.test_second_factor_double_submit import CODE_PAGE, double_click, signed_in_answer
from tests.support.browser import Browser, authorize_path, code_request, complete_authorize, forms, is_consent_page

CLIENT = "web"
SERVER_SIDE = {"server_side_sessions": ServerSideSessionsOptions(enabled=True)}


async def signed_in_with_a_client(server: Served) -> SessionTicket:
    """Alice's cookie session in the server's browser, after a code flow that put ``web`` among its clients."""
    answer = await complete_authorize(Browser(server.client), code_request(CLIENT)[0])
    assert answer.status_code == 302 and answer.headers["location"].startswith("https://web.example/cb?code=")
    ticket = await session_in(server, server.client.cookies)
    assert ticket.client_ids == [CLIENT]
    return ticket


async def reauthentication_form(server: Served) -> tuple[str, list[tuple[str, str]], str]:
    """A ``prompt=login`` request's login page in the signed-in browser: its action, its fields with alice's password,
    and the browser's cookies (the session's among them)."""
    page = await Browser(server.client).get(authorize_path(code_request(CLIENT, prompt="login")[0]))
    form = forms(page.text)[0]
    assert ATTEMPT_FIELD in dict(form.fields), page.text[:300]
    fields = [*form.fields, ("username", "alice"), ("password", "alice"), ("button", "login")]
    return form.action, fields, cookie_header(server.client.cookies)


@pytest.mark.parametrize("options", [{}, SERVER_SIDE], ids=["cookie", "server-side"])
async def test_a_double_submitted_re_authentication_keeps_the_sid_and_clients_in_both_answers(
    options: dict[str, ServerSideSessionsOptions],
) -> None:
    async with server_with(**options) as server:
        old = await signed_in_with_a_client(server)
        action, fields, cookie = await reauthentication_form(server)
        answers = await double_click(server, action, fields, cookie)
        assert all(signed_in_answer(a) for a in answers), [(a.status_code, a.text[:200]) for a in answers]
        first, second = [await session_in(server, a.cookies) for a in answers]
        for ticket in (first, second):
            assert (ticket.session_id, ticket.client_ids) == (old.session_id, [CLIENT])
        assert first.ticket_id == second.ticket_id != old.ticket_id
        assert {a.cookies["idsrv.session"] for a in answers} == {old.session_id}
        if options:  # server-side: the old row replaced by the one both answers name
            assert first.key == second.key != old.key
            assert await server_side_session_keys(server, "1") == [first.key]
        # the old cookie stays ended, and one logout ends both answers' cookies
        assert await server.services.user_session.authenticate({SESSION_COOKIE: cookie_of(cookie)}) is None
        await server.services.user_session.sign_out(second, secure=False)
        for answer in answers:
            cookies = {SESSION_COOKIE: answer.cookies[SESSION_COOKIE]}
            assert await server.services.user_session.authenticate(cookies) is None


async def test_a_later_submission_after_the_re_authenticated_session_ended_opens_a_fresh_sid() -> None:
    async with server_with() as server:
        old = await signed_in_with_a_client(server)
        action, fields, cookie = await reauthentication_form(server)
        first = await session_in(server, (await server.submit_as_rendered(action, fields, cookie)).cookies)
        await server.services.user_session.sign_out(first, secure=False)  # the logout reached the old clients
        later = await server.submit_as_rendered(action, fields, cookie)
        assert signed_in_answer(later)
        fresh = await session_in(server, later.cookies)
        assert fresh.session_id not in (old.session_id, first.session_id) and fresh.client_ids == []
        assert fresh.ticket_id not in (old.ticket_id, first.ticket_id)


async def test_a_cookie_a_logout_ended_lends_its_sid_to_no_sign_in() -> None:
    async with server_with() as server:
        old = await signed_in_with_a_client(server)
        action, fields, cookie = await reauthentication_form(server)
        await server.services.user_session.sign_out(old, secure=False)
        answer = await server.submit_as_rendered(action, fields, cookie)
        assert signed_in_answer(answer)
        ticket = await session_in(server, answer.cookies)
        assert ticket.session_id != old.session_id and ticket.client_ids == []


async def test_a_cookie_another_forms_re_authentication_ended_lends_its_sid_to_no_other_form() -> None:
    async with server_with() as server:
        old = await signed_in_with_a_client(server)
        action, fields, cookie = await reauthentication_form(server)
        other_action, other_fields, other_cookie = await reauthentication_form(server)
        assert cookie_of(other_cookie) == cookie_of(cookie)
        first = await session_in(server, (await server.submit_as_rendered(action, fields, cookie)).cookies)
        assert first.session_id == old.session_id
        other = await session_in(server, (await server.submit_as_rendered(other_action, other_fields, cookie)).cookies)
        assert other.session_id not in (old.session_id, first.session_id) and other.client_ids == []


async def test_a_user_session_service_without_supersede_answers_the_second_submission_with_a_sid_of_its_own() -> None:
    """A cookie-session ``UserSessionService`` written before ``supersede`` keeps working as it did (the known
    limit it keeps is in docs/extending.md)."""

    class WithoutSupersede:
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            if name in ("supersede", "superseded"):
                raise AttributeError(name)
            return getattr(self.inner, name)

    def configure(builder: IdentityServerBuilder) -> None:
        builder.decorate(UserSessionService, WithoutSupersede)

    async with server_with(configure=configure) as server:
        old = await signed_in_with_a_client(server)
        action, fields, cookie = await reauthentication_form(server)
        first, second = [
            await session_in(server, (await server.submit_as_rendered(action, fields, cookie)).cookies) for _ in "12"
        ]
        assert first.session_id == old.session_id and second.session_id != old.session_id


async def test_a_double_submitted_second_factor_re_authentication_keeps_the_sid_and_clients() -> None:
    async with server_with() as server:
        browser = Browser(server.client)
        await password_sign_in(browser)
        key, _ = await enrol(server, browser)
        server.clock.advance(seconds=60)
        params = code_request(CLIENT)[0]
        page = await browser.get(authorize_path(params))
        if is_consent_page(page):
            page = await browser.submit(page, {"button": "yes"})
        assert page.status_code == 302 and page.headers["location"].startswith("https://web.example/cb?code=")
        old = await session_in(server, server.client.cookies)
        assert CLIENT in old.client_ids
        server.clock.advance(seconds=60)
        page = await browser.get(authorize_path(code_request(CLIENT, prompt="login")[0]))
        step = await browser.submit(page, {"username": "alice", "password": "alice", "button": "login"})
        assert step.status_code == 200 and step.url.path == CODE_PAGE, step.text[:300]
        form = forms(step.text)[0]
        code = code_at(server, key)
        fields = [*[(k, v) for k, v in form.fields if k != "code"], ("code", code), ("button", "verify")]
        answers = await double_click(server, form.action, fields, cookie_header(server.client.cookies))
        assert all(signed_in_answer(a) for a in answers), [(a.status_code, a.text[:200]) for a in answers]
        first, second = [await session_in(server, a.cookies) for a in answers]
        for ticket in (first, second):
            assert ticket.session_id == old.session_id and CLIENT in ticket.client_ids
        assert first.ticket_id == second.ticket_id != old.ticket_id


def cookie_of(header: str) -> str:
    """The session cookie's value in a ``Cookie`` header."""
    return dict(part.split("=", 1) for part in header.split("; "))[SESSION_COOKIE]
