"""The device grant at the token endpoint (RFC 8628 §3.4-§3.5; duende §1.12 ``DeviceCodeValidator``; security.md
113-114, R3): IdentityServer's order of checks, ``slow_down`` raising the interval by 5 s, tokens (ID token with
``openid``, refresh token with ``offline_access``, DPoP binding), one redemption of N parallel polls, and bad
input that changes nothing."""

from __future__ import annotations

import asyncio

from identityserver.client.dpop import DPoPKey
from identityserver.crypto.jwt import decode_jws, encode_jws
from identityserver.models.contexts import IsActiveContext
from identityserver.services import profile
from identityserver.services.device_flow_protocols import DeviceFlowThrottlingService
from identityserver.services.protocols import ProfileService
from tests.device_flow.support import (
    SECRET_AUTH,
    NeverSlowDown,
    approve,
    authorize_device,
    device_builder,
    device_server,
    error_of,
    poll,
    signed_in_browser,
)
from tests.support.server import running


async def test_approved_device_gets_access_id_and_refresh_tokens_once() -> None:
    async with device_server() as (server, store):
        device = await authorize_device(server, scope="openid profile api1 offline_access")
        assert error_of(await poll(server, device["device_code"])) == "authorization_pending"
        approved = await approve(await signed_in_browser(server), device["user_code"])
        assert approved.status_code == 200 and "Success" in approved.text
        server.clock.advance(5)
        response = await poll(server, device["device_code"])
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert set(body["scope"].split()) == {"openid", "profile", "api1", "offline_access"}
        assert body["refresh_token"]
        access = decode_jws(body["access_token"]).payload
        assert access["sub"] == "1" and access["client_id"] == "tv"
        identity = decode_jws(body["id_token"]).payload
        assert identity["sub"] == "1" and identity["aud"] == "tv" and identity["at_hash"]
        assert store.all() == []  # redeemed: the code is gone
        server.clock.advance(5)
        assert error_of(await poll(server, device["device_code"])) == "invalid_grant"
        refreshed = await server.token(
            {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": "tv"}
        )
        assert refreshed.status_code == 200, refreshed.text


async def test_without_openid_or_offline_access_only_an_access_token() -> None:
    async with device_server() as (server, _):
        device = await authorize_device(server, auth=SECRET_AUTH, scope="api1")
        await approve(await signed_in_browser(server), device["user_code"])
        body = (await poll(server, device["device_code"], auth=SECRET_AUTH)).json()
        assert body["scope"] == "api1" and "id_token" not in body and "refresh_token" not in body


async def test_a_compliant_device_never_gets_slow_down() -> None:
    async with device_server() as (server, _):
        device = await authorize_device(server, scope="api1")
        for _ in range(4):
            assert error_of(await poll(server, device["device_code"])) == "authorization_pending"
            server.clock.advance(5)


async def test_polling_too_fast_gets_slow_down_and_5_more_seconds_each_time() -> None:
    async with device_server() as (server, _):
        device = await authorize_device(server, scope="api1")
        code = device["device_code"]
        assert error_of(await poll(server, code)) == "authorization_pending"
        server.clock.advance(1)
        assert error_of(await poll(server, code)) == "slow_down"  # interval is now 10 s
        server.clock.advance(6)
        assert error_of(await poll(server, code)) == "slow_down"  # 6 < 10: interval is now 15 s
        server.clock.advance(14)
        assert error_of(await poll(server, code)) == "slow_down"  # 14 < 15: 20 s
        server.clock.advance(20)
        assert error_of(await poll(server, code)) == "authorization_pending"
        server.clock.advance(20)
        assert error_of(await poll(server, code)) == "authorization_pending"


async def test_slow_down_is_checked_before_expiry_then_expired_token() -> None:
    async with device_server() as (server, store):
        device = await authorize_device(server, scope="api1")
        server.clock.advance(299)
        assert error_of(await poll(server, device["device_code"])) == "authorization_pending"
        server.clock.advance(2)  # expired, but polled too early: IdentityServer answers slow_down first
        assert error_of(await poll(server, device["device_code"])) == "slow_down"
        server.clock.advance(10)
        assert error_of(await poll(server, device["device_code"])) == "expired_token"
        assert len(store.all()) == 1  # left for token cleanup


async def test_an_expired_code_cannot_be_approved() -> None:
    async with device_server() as (server, _):
        device = await authorize_device(server, scope="api1")
        server.clock.advance(301)
        browser = await signed_in_browser(server)
        page = await browser.get(f"/device?userCode={device['user_code']}")
        assert page.status_code == 400 and "invalid or has expired" in page.text
        assert error_of(await poll(server, device["device_code"])) == "expired_token"


async def test_denied_request_gets_access_denied() -> None:
    async with device_server() as (server, _):
        device = await authorize_device(server, scope="openid api1")
        browser = await signed_in_browser(server)
        page = await browser.get(f"/device?userCode={device['user_code']}")
        denied = await browser.submit(page, {"button": "no", "user_code": device["user_code"]})
        assert denied.status_code == 200 and "denied" in denied.text
        assert error_of(await poll(server, device["device_code"])) == "access_denied"
        server.clock.advance(5)
        assert error_of(await poll(server, device["device_code"])) == "access_denied"


async def test_user_chosen_scopes_narrow_the_tokens() -> None:
    async with device_server() as (server, _):
        device = await authorize_device(server, scope="openid profile api1")
        await approve(await signed_in_browser(server), device["user_code"], scopes=["openid", "api1"])
        body = (await poll(server, device["device_code"])).json()
        assert set(body["scope"].split()) == {"openid", "api1"}


async def test_a_dpop_proof_on_the_poll_binds_the_tokens() -> None:
    async with device_server() as (server, _):
        device = await authorize_device(server, scope="openid api1 offline_access")
        await approve(await signed_in_browser(server), device["user_code"])
        key = DPoPKey.generate()
        proof = encode_jws(
            {"typ": "dpop+jwt", "alg": key.alg, "jwk": key.jwk},
            {
                "jti": "p1",
                "htm": "POST",
                "htu": "https://idp.example/connect/token",
                "iat": int(server.clock.timestamp()),
            },
            key.private_key,
        )
        response = await poll(server, device["device_code"], headers={"DPoP": proof})
        assert response.status_code == 200, response.text
        assert response.json()["token_type"] == "DPoP"
        assert decode_jws(response.json()["access_token"]).payload["cnf"] == {"jkt": key.thumbprint}


async def test_another_clients_code_is_invalid_grant_and_stays_usable() -> None:
    async with device_server() as (server, store):
        device = await authorize_device(server, scope="api1")
        await approve(await signed_in_browser(server), device["user_code"])
        assert error_of(await poll(server, device["device_code"], client_id="tv.other")) == "invalid_grant"
        assert len(store.all()) == 1
        assert (await poll(server, device["device_code"])).status_code == 200


async def test_bad_device_codes() -> None:
    async with device_server() as (server, store):
        device = await authorize_device(server, scope="api1")
        assert error_of(await poll(server, "unknown")) == "invalid_grant"
        assert error_of(await poll(server, "x" * 101)) == "invalid_grant"
        assert (
            error_of(
                await server.token({"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": "tv"})
            )
            == "invalid_request"
        )
        assert error_of(await poll(server, device["device_code"], resource="urn:api1")) == "invalid_target"
        unauthorized = await server.token(
            {
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": device["device_code"],
                "client_id": "public",
            }
        )
        assert error_of(unauthorized) == "unauthorized_client"
        [(_, data)] = store.all()
        assert not data.is_authorized
        assert error_of(await poll(server, device["device_code"])) == "authorization_pending"


async def test_of_parallel_polls_after_approval_exactly_one_gets_tokens() -> None:
    builder, store = device_builder()
    builder.add(DeviceFlowThrottlingService, NeverSlowDown())  # every poll reaches the redemption
    async with running(builder) as server:
        device = await authorize_device(server, scope="openid api1 offline_access")
        await approve(await signed_in_browser(server), device["user_code"])
        responses = await asyncio.gather(*(poll(server, device["device_code"]) for _ in range(20)))
        assert sorted(r.status_code for r in responses) == [200] + [400] * 19
        assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}
        assert store.all() == []


async def test_with_the_default_throttle_parallel_polls_also_yield_one_token_set() -> None:
    async with device_server() as (server, store):
        device = await authorize_device(server, scope="api1")
        await approve(await signed_in_browser(server), device["user_code"])
        responses = await asyncio.gather(*(poll(server, device["device_code"]) for _ in range(10)))
        assert [r.status_code for r in responses].count(200) == 1
        assert {r.json()["error"] for r in responses if r.status_code != 200} <= {"invalid_grant", "slow_down"}
        assert store.all() == []


async def test_a_user_no_longer_active_gets_invalid_grant_and_the_code_is_kept() -> None:
    builder, store = device_builder()

    class Deactivated(profile.TestUserProfileService):
        active = True

        async def is_active(self, context: IsActiveContext) -> None:
            context.is_active = self.active

    builder.override(ProfileService, Deactivated)
    async with running(builder) as server:
        device = await authorize_device(server, scope="api1")
        await approve(await signed_in_browser(server), device["user_code"])
        Deactivated.active = False
        assert error_of(await poll(server, device["device_code"])) == "invalid_grant"
        assert len(store.all()) == 1  # nothing redeemed
