"""TokenCleanupService behaviour (``identityserver.testing.contracts.token_cleanup``, Duende TokenCleanupTests)
in memory and on SQL, plus the SQL service's batching, extension by subclass, and several cleaners at once."""

from __future__ import annotations

import asyncio

import pytest

from identityserver.models.grants import PersistedGrant
from identityserver.options import OperationalStoreOptions
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.token_cleanup import SqlTokenCleanupService
from identityserver.testing.backends import SqlStoreFactory
from identityserver.testing.contracts import TokenCleanupContract
from identityserver.testing.contracts.token_cleanup import CleanupFixture
from tests.support.clock import FakeClock


class TestTokenCleanup(TokenCleanupContract):
    pass


async def test_sql_cleanup_removes_everything_in_batches_and_reports_counts(sql_backend):
    f = await CleanupFixture.create(
        SqlStoreFactory(sql_backend.db), token_cleanup_batch_size=7, remove_consumed_tokens=True
    )
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
    f = await CleanupFixture.create(
        SqlStoreFactory(sql_backend.db), token_cleanup_batch_size=5, remove_consumed_tokens=True
    )
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
