"""TokenCleanupService behaviour (Duende TokenCleanupTests) in memory and on SQL, plus batching, extension by
subclass, and several cleaners running at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from identityserver.models.grants import DeviceCode, PersistedGrant, PersistedGrantFilter
from identityserver.options import OperationalStoreOptions
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.stores import SqlDeviceFlowStore, SqlPersistedGrantStore
from identityserver.storage.sqlalchemy.token_cleanup import SqlTokenCleanupService
from identityserver.stores.in_memory import InMemoryDeviceFlowStore, InMemoryPersistedGrantStore
from identityserver.stores.in_memory.token_cleanup import InMemoryTokenCleanupService
from tests.support.clock import FakeClock


class Fixture:
    def __init__(self, backend, **options):
        self.clock = FakeClock()
        self.options = OperationalStoreOptions(**options)
        if backend.kind == "in_memory":
            self.grants = InMemoryPersistedGrantStore()
            self.devices = InMemoryDeviceFlowStore()
            self.service = InMemoryTokenCleanupService(self.grants, self.devices, self.options, self.clock)
        else:
            self.grants = SqlPersistedGrantStore(backend.db)
            self.devices = SqlDeviceFlowStore(backend.db)
            self.service = SqlTokenCleanupService(backend.db, self.options, self.clock)

    def grant(self, key, expiration_seconds=None, consumed_seconds_ago=None):
        now = self.clock.utc_now()
        return PersistedGrant(
            key=key,
            type="refresh_token",
            client_id="c",
            creation_time=now - timedelta(days=1),
            data="{}",
            subject_id="s",
            expiration=None if expiration_seconds is None else now + timedelta(seconds=expiration_seconds),
            consumed_time=None if consumed_seconds_ago is None else now - timedelta(seconds=consumed_seconds_ago),
        )

    def device(self, lifetime_from_now):
        now = int(self.clock.timestamp())
        return DeviceCode(
            creation_time=now - 100, lifetime=100 + lifetime_from_now, client_id="c", requested_scopes=["a"]
        )

    async def keys(self):
        return {g.key for g in await self.grants.get_all(PersistedGrantFilter(client_id="c"))}


async def test_cleanup_grants_when_expired_grants_exist_expect_expired_grants_removed(backend):
    f = Fixture(backend)
    await f.grants.store(f.grant("expired", expiration_seconds=-1))
    await f.service.cleanup_grants()
    assert await f.grants.get("expired") is None


async def test_cleanup_grants_when_valid_grants_exist_expect_valid_grants_in_db(backend):
    f = Fixture(backend)
    await f.grants.store(f.grant("valid", expiration_seconds=60))
    await f.grants.store(f.grant("forever"))
    await f.service.cleanup_grants()
    assert await f.keys() == {"valid", "forever"}


async def test_cleanup_grants_when_expired_device_grants_exist_expect_expired_device_grants_removed(backend):
    f = Fixture(backend)
    await f.devices.store_device_authorization("dc", "uc", f.device(-1))
    await f.service.cleanup_grants()
    assert await f.devices.find_by_device_code("dc") is None


async def test_cleanup_grants_when_valid_device_grants_exist_expect_valid_device_grants_in_db(backend):
    f = Fixture(backend)
    await f.devices.store_device_authorization("dc", "uc", f.device(60))
    await f.service.cleanup_grants()
    assert await f.devices.find_by_device_code("dc") is not None


async def test_cleanup_grants_when_flag_is_on_and_consumed_grants_exist_expect_consumed_grants_removed(backend):
    f = Fixture(backend, remove_consumed_tokens=True)
    await f.grants.store(f.grant("consumed", expiration_seconds=60, consumed_seconds_ago=1))
    await f.grants.store(f.grant("live", expiration_seconds=60))
    await f.service.cleanup_grants()
    assert await f.keys() == {"live"}


async def test_cleanup_grants_when_flag_is_off_and_consumed_grants_exist_expect_consumed_grants_not_removed(backend):
    f = Fixture(backend, remove_consumed_tokens=False)
    await f.grants.store(f.grant("consumed", expiration_seconds=60, consumed_seconds_ago=1))
    await f.service.cleanup_grants()
    assert await f.keys() == {"consumed"}


async def test_cleanup_grants_when_flag_is_on_and_consumed_grants_exist_and_delay_is_set_expect_consumed_grants_removed_respects_delay(  # noqa: E501
    backend,
):
    f = Fixture(backend, remove_consumed_tokens=True, consumed_token_cleanup_delay=10)
    await f.grants.store(f.grant("recent", expiration_seconds=60, consumed_seconds_ago=5))
    await f.grants.store(f.grant("old", expiration_seconds=60, consumed_seconds_ago=15))
    await f.service.cleanup_grants()
    assert await f.keys() == {"recent"}


async def test_sql_cleanup_removes_everything_in_batches_and_reports_counts(sql_backend):
    f = Fixture(sql_backend, token_cleanup_batch_size=7, remove_consumed_tokens=True)
    for i in range(50):
        await f.grants.store(f.grant(f"e{i}", expiration_seconds=-i - 1))
    for i in range(9):
        await f.grants.store(f.grant(f"c{i}", expiration_seconds=60, consumed_seconds_ago=1))
    await f.grants.store(f.grant("live", expiration_seconds=60))
    batches: list[int] = []

    class Counting(SqlTokenCleanupService):
        async def on_batch_removed(self, table_name: str, count: int) -> None:
            batches.append(count)

    service = Counting(sql_backend.db, f.options, f.clock)
    await service.cleanup_grants()
    assert (service.last_result.expired_grants, service.last_result.consumed_grants) == (50, 9)
    assert max(batches) == 7
    assert await f.keys() == {"live"}


async def test_batch_size_below_one_is_refused(sql_backend):
    with pytest.raises(ValueError):
        SqlTokenCleanupService(sql_backend.db, OperationalStoreOptions(token_cleanup_batch_size=0), FakeClock())


async def test_several_cleaners_at_once_neither_fail_nor_touch_live_rows(sql_backend):
    f = Fixture(sql_backend, token_cleanup_batch_size=5, remove_consumed_tokens=True)
    for i in range(60):
        await f.grants.store(f.grant(f"e{i}", expiration_seconds=-1))
    for i in range(20):
        await f.grants.store(f.grant(f"live{i}", expiration_seconds=3600))
    others = [Database(sql_backend.url) for _ in range(2)]
    try:
        services = [SqlTokenCleanupService(db, f.options, f.clock) for db in (sql_backend.db, *others)]

        async def redeem_while_cleaning(i: int) -> PersistedGrant | None:
            return await f.grants.take(f"live{i}")

        results = await asyncio.gather(
            *(s.cleanup_grants() for s in services), *(redeem_while_cleaning(i) for i in range(10))
        )
        assert all(r is not None for r in results[len(services) :])
        assert sum(s.last_result.expired_grants for s in services) == 60
        assert await f.keys() == {f"live{i}" for i in range(10, 20)}
    finally:
        for db in others:
            await db.dispose()
