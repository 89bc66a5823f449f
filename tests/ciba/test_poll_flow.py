"""CIBA poll mode end to end over HTTP: /connect/ciba, the /ciba page, the CIBA grant (CIBA Core §7, §10.1, §11)."""

from __future__ import annotations

import asyncio

from identityserver.client.dpop import DPoPKey
from identityserver.crypto.jwt import decode_jws
from identityserver.validation.token_request.ciba import CibaGrantValidator
from tests.ciba.support import backchannel, ciba_builder, ciba_page, decide, poll, start
from tests.support.server import running


async def test_approved_request_gets_tokens_with_an_id_token_once() -> None:
    async with running(ciba_builder()) as server:
        response = await backchannel(server, {"scope": "openid profile api1 offline_access", "login_hint": "alice"})
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"auth_req_id", "expires_in", "interval"}
        assert (body["expires_in"], body["interval"]) == (300, 5)
        assert response.headers["cache-control"] == "no-store"
        pending = await poll(server, body["auth_req_id"])
        assert (pending.status_code, pending.json()["error"]) == (400, "authorization_pending")
        page = await decide(server)
        assert "You approved the request." in page.text
        server.clock.advance(5)
        tokens = await poll(server, body["auth_req_id"])
        assert tokens.status_code == 200, tokens.text
        issued = tokens.json()
        assert set(issued["scope"].split()) == {"openid", "profile", "api1", "offline_access"}
        assert issued["refresh_token"]
        id_token = decode_jws(issued["id_token"]).payload
        assert (id_token["sub"], id_token["aud"]) == ("1", "ciba")
        assert "auth_time" in id_token and id_token["sid"]
        server.clock.advance(5)
        again = await poll(server, body["auth_req_id"])
        assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


async def test_user_chooses_scopes_and_openid_is_kept() -> None:
    async with running(ciba_builder()) as server:
        auth_req_id = await start(server)
        await decide(server, scopes_consented=["api1"])
        server.clock.advance(5)
        tokens = await poll(server, auth_req_id)
        assert tokens.status_code == 200
        assert set(tokens.json()["scope"].split()) == {"openid", "api1"}
        assert tokens.json()["id_token"]


async def test_denied_request_is_access_denied_then_gone() -> None:
    async with running(ciba_builder()) as server:
        auth_req_id = await start(server)
        page = await decide(server, approve=False)
        assert "You denied the request." in page.text
        denied = await poll(server, auth_req_id)
        assert (denied.status_code, denied.json()["error"]) == (400, "access_denied")
        server.clock.advance(5)
        after = await poll(server, auth_req_id)
        assert after.json()["error"] == "invalid_grant"


async def test_polling_faster_than_the_interval_is_slow_down() -> None:
    async with running(ciba_builder()) as server:
        auth_req_id = await start(server)
        assert (await poll(server, auth_req_id)).json()["error"] == "authorization_pending"
        server.clock.advance(4)
        assert (await poll(server, auth_req_id)).json()["error"] == "slow_down"
        server.clock.advance(5)
        assert (await poll(server, auth_req_id)).json()["error"] == "authorization_pending"


async def test_client_polling_interval_and_lifetime_are_honoured() -> None:
    async with running(ciba_builder()) as server:
        response = await backchannel(
            server, {"scope": "openid", "login_hint": "bob", "user_code": "4242"}, client_id="ciba.strict"
        )
        assert (response.json()["expires_in"], response.json()["interval"]) == (120, 10)
        auth_req_id = response.json()["auth_req_id"]
        await poll(server, auth_req_id, "ciba.strict")
        server.clock.advance(9)
        assert (await poll(server, auth_req_id, "ciba.strict")).json()["error"] == "slow_down"
        server.clock.advance(10)
        assert (await poll(server, auth_req_id, "ciba.strict")).json()["error"] == "authorization_pending"


async def test_requested_expiry_ends_the_request_with_expired_token() -> None:
    async with running(ciba_builder()) as server:
        auth_req_id = await start(server, requested_expiry="30")
        server.clock.advance(31)
        expired = await poll(server, auth_req_id)
        assert (expired.status_code, expired.json()["error"]) == (400, "expired_token")
        _, page = await ciba_page(server)
        assert "No application is waiting" in page.text


async def test_unknown_foreign_and_oversize_ids_are_invalid_grant_and_change_nothing() -> None:
    async with running(ciba_builder()) as server:
        auth_req_id = await start(server)
        foreign = await poll(server, auth_req_id, client_id="ciba.other")
        assert (foreign.status_code, foreign.json()["error"]) == (400, "invalid_grant")
        unknown = await poll(server, "x" * 40)
        assert unknown.json()["error"] == "invalid_grant"
        oversize = await poll(server, "x" * 101)
        assert oversize.json()["error"] == "invalid_grant"
        missing = await server.token({"grant_type": "urn:openid:params:grant-type:ciba"}, auth=("ciba", "secret"))
        assert missing.json()["error"] == "invalid_request"
        not_allowed = await poll(server, auth_req_id, client_id="m2m")
        assert not_allowed.json()["error"] == "unauthorized_client"
        # the foreign poll neither consumed nor throttled the owner's request
        assert (await poll(server, auth_req_id)).json()["error"] == "authorization_pending"


async def test_parallel_polls_after_approval_redeem_exactly_once() -> None:
    async with running(ciba_builder()) as server:
        auth_req_id = await start(server)
        await decide(server)
        server.clock.advance(5)
        responses = await asyncio.gather(*(poll(server, auth_req_id) for _ in range(8)))
        assert sorted(r.status_code for r in responses).count(200) == 1
        assert all(r.json()["error"] in ("slow_down", "invalid_grant") for r in responses if r.status_code != 200)
        stored = await server.services.backchannel_authentication.get_pending_login_requests_for_user("1")
        assert stored == []


async def test_twenty_parallel_polls_that_all_reach_redemption_redeem_exactly_once(monkeypatch) -> None:
    """security.md R3 without the throttle in the way: every poll gets to the redemption (the take)."""

    async def never(self: CibaGrantValidator, context: object, stored: object) -> bool:
        return False

    monkeypatch.setattr(CibaGrantValidator, "should_slow_down", never)
    async with running(ciba_builder()) as server:
        auth_req_id = await start(server)
        await decide(server)
        responses = await asyncio.gather(*(poll(server, auth_req_id) for _ in range(20)))
        assert sorted(r.status_code for r in responses) == [200] + [400] * 19
        assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}
        assert await server.services.backchannel_authentication.get_pending_login_requests_for_user("1") == []


async def test_inactive_user_at_redemption_is_invalid_grant() -> None:
    async with running(ciba_builder()) as server:
        auth_req_id = await start(server)
        await decide(server)
        users = server.services.users
        assert users is not None
        alice = await users.find_by_subject_id("1")
        assert alice is not None
        alice.is_active = False
        server.clock.advance(5)
        response = await poll(server, auth_req_id)
        assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


async def test_expired_requests_are_removed_by_token_cleanup() -> None:
    async with running(ciba_builder()) as server:
        await start(server, requested_expiry="10")
        grants = server.services.persisted_grants
        server.clock.advance(11)
        cleanup = server.services.token_cleanup
        assert cleanup is not None
        from identityserver.models.grants import PersistedGrantFilter

        assert await grants.get_all(PersistedGrantFilter(type="ciba"))
        await cleanup.cleanup_grants()
        assert await grants.get_all(PersistedGrantFilter(type="ciba")) == []


async def test_a_poll_with_a_dpop_proof_gets_a_bound_token() -> None:
    async with running(ciba_builder()) as server:
        auth_req_id = await start(server)
        await decide(server)
        server.clock.advance(5)
        key = DPoPKey.generate(clock=server.clock)
        proof = key.create_proof("POST", server.issuer + "/connect/token")
        response = await server.token(
            {"grant_type": "urn:openid:params:grant-type:ciba", "auth_req_id": auth_req_id},
            auth=("ciba", "secret"),
            headers={"DPoP": proof},
        )
        assert response.status_code == 200, response.text
        assert response.json()["token_type"] == "DPoP"
        assert decode_jws(response.json()["access_token"]).payload["cnf"]["jkt"] == key.thumbprint
