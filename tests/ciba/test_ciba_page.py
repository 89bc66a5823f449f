"""The /ciba page and the interaction service: only the signed-in user's pending requests, CSRF-protected
decisions, once only; a host completes requests from its own code the same way."""

from __future__ import annotations

import asyncio

from identityserver.models.backchannel_authentication import CompleteBackchannelLoginRequest
from identityserver.models.claims import Claim, Principal
from identityserver.services.backchannel_authentication import BackchannelAuthenticationInteractionService
from tests.ciba.support import backchannel, ciba_builder, ciba_page, poll, start
from tests.support.browser import forms
from tests.support.server import Server, running


def interaction(server: Server) -> BackchannelAuthenticationInteractionService:
    service = server.services.backchannel_authentication
    assert service is not None
    return service


async def test_signed_out_user_is_sent_to_login_and_back() -> None:
    async with running(ciba_builder()) as server:
        response = await server.client.get("/ciba")
        assert response.status_code == 302
        assert response.headers["location"] == "/account/login?returnUrl=%2Fciba"


async def test_page_shows_client_name_escaped_binding_message_and_scopes() -> None:
    async with running(ciba_builder()) as server:
        await start(server, binding_message="<script>alert(1)</script>")
        _, page = await ciba_page(server)
        assert "Example Bank" in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "<script>alert(1)" not in page.text
        [form] = forms(page.text)
        assert ("scopes_consented", "api1") in form.fields
        assert 'name="button" value="yes"' in page.text and 'name="button" value="no"' in page.text


async def test_each_user_sees_only_their_requests_and_cannot_decide_others() -> None:
    async with running(ciba_builder()) as server:
        auth_req_id = await start(server, binding_message="for alice")
        await start(server, login_hint="bob", binding_message="for bob")
        [alices] = await interaction(server).get_pending_login_requests_for_user("1")
        browser, page = await ciba_page(server, "bob")
        assert "for bob" in page.text and "for alice" not in page.text
        response = await browser.submit(page, {"id": alices.internal_id, "button": "yes"})
        assert "no longer pending" in response.text
        assert (await poll(server, auth_req_id)).json()["error"] == "authorization_pending"


async def test_decision_without_the_anti_forgery_token_changes_nothing() -> None:
    async with running(ciba_builder()) as server:
        auth_req_id = await start(server)
        _browser, page = await ciba_page(server)
        [form] = forms(page.text)
        data = {name: value for name, value in form.fields if name != "__RequestVerificationToken"}
        response = await server.client.post("/ciba", data={**data, "button": "yes"})
        assert response.status_code == 400
        assert (await poll(server, auth_req_id)).json()["error"] == "authorization_pending"


async def test_a_request_is_decided_once() -> None:
    async with running(ciba_builder()) as server:
        auth_req_id = await start(server)
        browser, page = await ciba_page(server)
        first = await browser.submit(page, {"button": "no"})
        assert "You denied the request." in first.text
        second = await browser.submit(page, {"button": "yes"})
        assert "no longer pending" in second.text
        assert (await poll(server, auth_req_id)).json()["error"] == "access_denied"


async def test_host_code_completes_requests_through_the_interaction_service() -> None:
    async with running(ciba_builder()) as server:
        auth_req_id = await start(server)
        service = interaction(server)
        [login] = await service.get_pending_login_requests_for_user("1")
        assert (login.binding_message, login.client.client_name) == ("W4SCT", "Example Bank")
        assert await service.get_login_request_by_internal_id(login.internal_id) is not None
        someone_else = CompleteBackchannelLoginRequest(login.internal_id, Principal([Claim("sub", "2")]), ["openid"])
        assert await service.complete_login_request(someone_else) is False
        alice = Principal([Claim("sub", "1"), Claim("auth_time", "1767268800", "integer"), Claim("amr", "mfa")])
        approvals = [CompleteBackchannelLoginRequest(login.internal_id, alice, ["openid", "api1"]) for _ in range(5)]
        results = await asyncio.gather(*(service.complete_login_request(a) for a in approvals))
        assert results.count(True) == 1
        assert await service.get_login_request_by_internal_id(login.internal_id) is None
        tokens = await poll(server, auth_req_id)
        assert tokens.status_code == 200
        assert set(tokens.json()["scope"].split()) == {"openid", "api1"}


async def test_unknown_ids_are_refused() -> None:
    async with running(ciba_builder()) as server:
        service = interaction(server)
        alice = Principal([Claim("sub", "1")])
        assert await service.complete_login_request(CompleteBackchannelLoginRequest("nope", alice, ["openid"])) is False
        assert await service.get_login_request_by_internal_id("nope") is None
        response = await backchannel(server, {"scope": "openid", "login_hint": "alice"})
        assert response.status_code == 200
