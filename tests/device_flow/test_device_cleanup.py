"""Token cleanup removes expired device codes (duende §1.19 step 3) in both cleanup services as composed: the
in-memory one over the default device store, and the SQL one over the ``DeviceCodes`` table that ``serve`` uses;
on the SQL stores parallel polls after approval redeem the code once (security.md R3)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx

from identityserver.configuration.host import create_builder
from identityserver.hosting.app import create_app
from identityserver.services.device_flow_protocols import DeviceFlowThrottlingService
from identityserver.ui import create_ui
from tests.device_flow.support import DEVICE_TOML, NeverSlowDown, error_of
from tests.support.browser import Browser, sign_in
from tests.support.clock import FakeClock
from tests.support.data import test_configuration as configuration
from tests.support.server import ISSUER, make_builder, running


async def test_in_memory_cleanup_removes_expired_device_codes_only() -> None:
    async with running(make_builder(configuration(DEVICE_TOML))) as server:
        cleanup = server.services.token_cleanup
        assert cleanup is not None
        old = (await server.client.post("/connect/deviceauthorization", data={"client_id": "tv"})).json()
        server.clock.advance(200)
        new = (await server.client.post("/connect/deviceauthorization", data={"client_id": "tv"})).json()
        server.clock.advance(150)  # old expired 50 s ago, new has 150 s left
        await cleanup.cleanup_grants()
        assert (
            error_of(
                await server.token(
                    {
                        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                        "device_code": old["device_code"],
                        "client_id": "tv",
                    }
                )
            )
            == "invalid_grant"
        )
        assert error_of(
            await server.token(
                {
                    "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                    "device_code": new["device_code"],
                    "client_id": "tv",
                }
            )
        ) == ("authorization_pending")


async def test_sql_stores_keep_device_codes_in_the_database_and_clean_them_up(tmp_path: Path) -> None:
    config = configuration(DEVICE_TOML)
    config.options = dataclasses.replace(config.options, issuer_uri=ISSUER)
    builder = create_builder(config, tmp_path)
    clock = FakeClock()
    builder.set_clock(clock)
    services = builder.build()
    for step in services.startup:
        await step()
    transport = httpx.ASGITransport(app=create_app(services, create_ui(services)))
    grant = "urn:ietf:params:oauth:grant-type:device_code"
    try:
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            device = (await http.post("/connect/deviceauthorization", data={"client_id": "tv"})).json()
            first = await http.post(
                "/connect/token", data={"grant_type": grant, "device_code": device["device_code"], "client_id": "tv"}
            )
            assert first.json()["error"] == "authorization_pending"
            clock.advance(400)
            assert services.token_cleanup is not None
            await services.token_cleanup.cleanup_grants()
            gone = await http.post(
                "/connect/token", data={"grant_type": grant, "device_code": device["device_code"], "client_id": "tv"}
            )
            assert gone.json()["error"] == "invalid_grant"
    finally:
        for step in services.shutdown:
            await step()


async def test_on_the_sql_stores_parallel_polls_after_approval_yield_one_token_set(tmp_path: Path) -> None:
    config = configuration(DEVICE_TOML)
    config.options = dataclasses.replace(config.options, issuer_uri=ISSUER)
    builder = create_builder(config, tmp_path)
    builder.add(DeviceFlowThrottlingService, NeverSlowDown())  # every poll reaches the redemption
    services = builder.build()
    for step in services.startup:
        await step()
    transport = httpx.ASGITransport(app=create_app(services, create_ui(services)))
    grant = "urn:ietf:params:oauth:grant-type:device_code"
    try:
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            device = (await http.post("/connect/deviceauthorization", data={"client_id": "tv", "scope": "api1"})).json()
            browser = Browser(http)
            await sign_in(browser)
            page = await browser.get(f"/device?userCode={device['user_code']}")
            approved = await browser.submit(page, {"button": "yes", "user_code": device["user_code"]})
            assert approved.status_code == 200, approved.text
            data = {"grant_type": grant, "device_code": device["device_code"], "client_id": "tv"}
            responses = await asyncio.gather(*(http.post("/connect/token", data=data) for _ in range(10)))
            assert sorted(r.status_code for r in responses) == [200] + [400] * 9
            assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}
    finally:
        for step in services.shutdown:
            await step()
