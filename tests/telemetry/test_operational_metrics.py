"""The rare instruments, recorded whenever an SDK is installed: cleanup runs and removed rows (in memory and SQL),
active sessions (sign-ins minus sign-outs), key rotations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from identityserver.configuration.host import create_builder
from identityserver.hosting.background import token_cleanup_job
from identityserver.models.grants import PersistedGrant
from identityserver.options import OperationalStoreOptions
from identityserver.stores.in_memory.persisted_grants import InMemoryPersistedGrantStore
from identityserver.stores.in_memory.token_cleanup import InMemoryTokenCleanupService
from tests.support import data as test_data
from tests.support.browser import Browser, sign_in
from tests.support.clock import FakeClock
from tests.support.keys import pregenerated_signing_keys
from tests.support.server import make_builder, running
from tests.telemetry.sdk import sdk

REMOVED = "identityserver.token_cleanup.removed"
RUNS = "identityserver.token_cleanup.runs"


def _grant(key: str, expiration: datetime, consumed: datetime | None = None) -> PersistedGrant:
    created = expiration - timedelta(hours=1)
    return PersistedGrant(key, "refresh_token", "web", created, "{}", expiration=expiration, consumed_time=consumed)


async def test_in_memory_cleanup_counts_removed_grants_by_kind_and_the_job_counts_runs():
    telemetry = sdk()
    clock = FakeClock()
    now = clock.utc_now()
    grants = InMemoryPersistedGrantStore()
    await grants.store(_grant("expired-1", now - timedelta(minutes=1)))
    await grants.store(_grant("expired-2", now - timedelta(minutes=2)))
    await grants.store(_grant("consumed", now + timedelta(hours=1), consumed=now - timedelta(minutes=5)))
    await grants.store(_grant("live", now + timedelta(hours=1)))
    options = OperationalStoreOptions(remove_consumed_tokens=True, token_cleanup_interval=1)
    expired, consumed = (
        telemetry.total(REMOVED, kind="expired_grants"),
        telemetry.total(REMOVED, kind="consumed_grants"),
    )
    succeeded, failed = telemetry.total(RUNS, outcome="success"), telemetry.total(RUNS, outcome="failure")
    service = InMemoryTokenCleanupService(grants, None, options, clock)
    runs = 0

    class FailingOnce:
        async def cleanup_grants(self) -> None:
            nonlocal runs
            runs += 1
            if runs == 1:
                raise RuntimeError("database away")
            await service.cleanup_grants()

    async def sleep(seconds: float) -> None:
        if runs >= 2:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await token_cleanup_job(FailingOnce, options, sleep)()
    assert [g.key for g in grants.all()] == ["live"]
    assert telemetry.total(REMOVED, kind="expired_grants") == expired + 2
    assert telemetry.total(REMOVED, kind="consumed_grants") == consumed + 1
    assert telemetry.total(RUNS, outcome="success") == succeeded + 1
    assert telemetry.total(RUNS, outcome="failure") == failed + 1


async def test_sql_cleanup_counts_removed_rows(tmp_path):
    telemetry = sdk()
    services = create_builder(test_data.test_configuration(), str(tmp_path)).build()
    with pregenerated_signing_keys():
        for step in services.startup:
            await step()
    try:
        now = datetime.now(UTC)
        for index in range(3):
            await services.persisted_grants.store(_grant(f"old-{index}", now - timedelta(days=1)))
        await services.persisted_grants.store(_grant("live", now + timedelta(days=1)))
        before = telemetry.total(REMOVED, kind="expired_grants")
        assert services.token_cleanup is not None
        await services.token_cleanup.cleanup_grants()
        assert telemetry.total(REMOVED, kind="expired_grants") == before + 3
    finally:
        for step in services.shutdown:
            await step()


async def test_sign_in_and_sign_out_move_active_sessions():
    telemetry = sdk()
    async with running(make_builder()) as server:
        before = telemetry.total("identityserver.sessions.active")
        browser = Browser(server.client)
        await sign_in(browser)
        assert telemetry.total("identityserver.sessions.active") == before + 1
        page = await server.client.get("/account/logout")
        done = await browser.submit(page, {"button": "yes"})
        assert done.status_code == 200
        assert telemetry.total("identityserver.sessions.active") == before
