"""The stored-grant fast path (issue 15): prepared single statements on the driver's connection, SQLite group
commit and lock waits that never block the event loop, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from identityserver.models.grants import PersistedGrant
from identityserver.storage.sqlalchemy import fast_path, sqlite_inline
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.operational import persisted_grants
from identityserver.storage.sqlalchemy.stores.persisted_grants import SqlPersistedGrantStore
from tests.storage.conftest import Backend

NOW = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def grant(key: str, data: str = '{"x": 1}', **changes: object) -> PersistedGrant:
    values: dict[str, object] = {
        "key": key,
        "type": "authorization_code",
        "client_id": "client",
        "creation_time": NOW,
        "data": data,
        "subject_id": "alice",
        "session_id": "s1",
        "description": None,
        "expiration": NOW + timedelta(minutes=5),
        "consumed_time": None,
    }
    values.update(changes)
    return PersistedGrant(**values)  # type: ignore[arg-type]


async def count(database: Database) -> int:
    async with database.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(persisted_grants))).scalar_one())


async def test_a_stored_grant_reads_back_with_its_types(sql_backend: Backend) -> None:
    store = SqlPersistedGrantStore(sql_backend.db)
    await store.store(grant("k1"))
    found = await store.get("k1")
    assert found == grant("k1")
    assert found is not None and found.creation_time.tzinfo is not None
    await store.store(grant("k1", data='{"x": 2}'))  # the upsert replaces
    assert (await store.get("k1")) == grant("k1", data='{"x": 2}')
    assert await store.get("missing") is None
    await store.remove("k1")
    assert await store.get("k1") is None


async def test_concurrent_stores_are_all_committed_and_visible_to_other_connections(sql_backend: Backend) -> None:
    store = SqlPersistedGrantStore(sql_backend.db)
    await asyncio.gather(*(store.store(grant(f"c{i}")) for i in range(200)))
    async with sql_backend.another_node() as other:
        assert await count(other) == 200
        assert await SqlPersistedGrantStore(other).get("c199") == grant("c199")


@pytest.mark.parametrize("method", ["take", "consume"])
async def test_of_parallel_redemptions_of_one_grant_exactly_one_wins(sql_backend: Backend, method: str) -> None:
    store = SqlPersistedGrantStore(sql_backend.db)
    await store.store(grant("once"))
    if method == "take":
        results = await asyncio.gather(*(store.take("once") for _ in range(20)))
    else:
        results = await asyncio.gather(*(store.consume("once", NOW) for _ in range(20)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].key == "once"
    if method == "consume":
        consumed = await store.get("once")
        assert consumed is not None and consumed.consumed_time == NOW


async def test_a_failing_statement_in_a_group_commit_fails_alone(sql_backend: Backend) -> None:
    store = SqlPersistedGrantStore(sql_backend.db)
    good = [store.store(grant(f"g{i}")) for i in range(10)]
    bad = store.store(grant("bad", data=None))  # type: ignore[arg-type]  # Data is NOT NULL
    results = await asyncio.gather(*good[:5], bad, *good[5:], return_exceptions=True)
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1 and results[5] is failures[0]
    assert "null" in str(failures[0]).lower()
    assert await count(sql_backend.db) == 10
    assert await store.get("bad") is None


async def test_a_batch_replayed_after_a_failure_redeems_and_stores_once(sql_backend: Backend) -> None:
    """The batch with a failing statement is rolled back and run again, each statement in a savepoint: what the
    others returned and changed is what one run gives."""
    store = SqlPersistedGrantStore(sql_backend.db)
    await store.store(grant("once"))
    bad = store.store(grant("bad", data=None))  # type: ignore[arg-type]  # Data is NOT NULL
    results = await asyncio.gather(
        store.take("once"), store.store(grant("new")), bad, store.take("once"), return_exceptions=True
    )
    taken, stored, failed, again = results
    assert isinstance(taken, PersistedGrant) and taken.key == "once"
    assert stored is None and again is None
    assert isinstance(failed, Exception)
    assert await store.get("once") is None
    assert await store.get("new") == grant("new")
    assert await count(sql_backend.db) == 1


async def test_a_replace_whose_successor_fails_changes_nothing_and_fails_alone(sql_backend: Backend) -> None:
    """The take, the new grant and the successor are one step: when the successor is refused, the taken grant is
    back (a refresh token's rotation that fails leaves the presented token usable, security.md §3.2 F2)."""
    store = SqlPersistedGrantStore(sql_backend.db)
    await store.store(grant("rt"))
    await store.store(grant("other"))
    refused = grant("next", data=None)  # type: ignore[arg-type]  # Data is NOT NULL
    results = await asyncio.gather(
        store.store(grant("g1")),
        store.replace("rt", grant("used"), refused),
        store.replace("other", grant("other used"), grant("other next")),
        store.store(grant("g2")),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is True and results[3] is None
    assert isinstance(results[1], Exception) and "null" in str(results[1]).lower()
    assert await store.get("rt") == grant("rt")
    assert await store.get("used") is None and await store.get("next") is None
    assert await store.get("other next") == grant("other next")
    assert await count(sql_backend.db) == 5  # rt, other used, other next, g1, g2


async def test_inside_an_exclusive_lock_the_store_uses_the_locks_transaction(sql_backend: Backend) -> None:
    store = SqlPersistedGrantStore(sql_backend.db)
    with pytest.raises(RuntimeError):
        async with sql_backend.db.exclusive_lock("test"):
            await store.store(grant("inside"))
            assert await store.get("inside") == grant("inside")
            assert await store.replace("inside", grant("used"), grant("next")) is True
            assert await store.get("next") == grant("next")
            raise RuntimeError("abort")
    assert await store.get("inside") is None  # rolled back with the lock's transaction
    assert await store.get("used") is None and await store.get("next") is None
    async with sql_backend.db.exclusive_lock("test"):
        await store.store(grant("kept"))
    assert await store.get("kept") == grant("kept")


def _sqlite_backend(sql_backend: Backend) -> str:
    assert sql_backend.kind == "sqlite"
    url = sql_backend.url or ""
    return url.removeprefix("sqlite:///")


@pytest.mark.parametrize("sql_backend", ["sqlite"], indirect=True)
async def test_waiting_for_another_process_lock_does_not_block_the_loop(sql_backend: Backend) -> None:
    path = _sqlite_backend(sql_backend)
    store = SqlPersistedGrantStore(sql_backend.db)
    await store.store(grant("warm"))
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # as another process would hold the write lock
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    started = time.monotonic()
    release.start()
    try:
        await store.store(grant("after-the-lock"))
    finally:
        release.join()
        ticking.cancel()
        holder.close()
    assert time.monotonic() - started >= 0.25
    assert ticks >= 5  # the loop kept running while the store waited
    assert await store.get("after-the-lock") == grant("after-the-lock")


@pytest.mark.parametrize("sql_backend", ["sqlite"], indirect=True)
async def test_a_lock_held_past_the_busy_timeout_fails_the_write_cleanly(sql_backend: Backend) -> None:
    path = _sqlite_backend(sql_backend)
    store = SqlPersistedGrantStore(sql_backend.db)
    await store.get("warm")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        fast = sql_backend.db._fast_path()
        assert fast is not None
        for connection in (fast._reader, fast._writer):  # type: ignore[union-attr]
            if connection is not None:
                connection.busy_timeout_s = 0.1
        fast._busy_timeout_s = 0.1  # type: ignore[union-attr]
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await store.store(grant("never"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await store.store(grant("later"))  # the writer recovered
    assert await store.get("never") is None
    assert await store.get("later") == grant("later")


@pytest.mark.parametrize("sql_backend", ["sqlite"], indirect=True)
async def test_the_write_ahead_log_is_checkpointed_off_the_loop(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _sqlite_backend(sql_backend)
    monkeypatch.setattr(sqlite_inline, "CHECKPOINT_EVERY_WRITES", 20)
    store = SqlPersistedGrantStore(sql_backend.db)
    checkpoints: list[str] = []
    original = sqlite_inline.WalCheckpointer.checkpoint

    def recording(self: sqlite_inline.WalCheckpointer, mode: str = "PASSIVE") -> int:
        checkpoints.append(threading.current_thread().name)
        return original(self, mode)

    monkeypatch.setattr(sqlite_inline.WalCheckpointer, "checkpoint", recording)
    for i in range(60):
        await store.store(grant(f"w{i}"))
    await asyncio.sleep(0.2)
    assert checkpoints and all(name != threading.main_thread().name for name in checkpoints)
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        busy, log, done = check.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0 and done == log


async def test_the_store_keeps_working_after_its_connections_were_dropped(sql_backend: Backend) -> None:
    store = SqlPersistedGrantStore(sql_backend.db)
    await store.store(grant("before"))
    assert await store.get("before") == grant("before")
    if sql_backend.kind == "postgresql":  # as a server restart or a fail-over drops them
        async with sql_backend.db.write() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        await asyncio.sleep(0.1)
    else:
        fast = sql_backend.db._fast_path()
        assert fast is not None
        await fast.close()
    assert await store.get("before") == grant("before")
    await store.store(grant("after"))
    assert await store.take("after") == grant("after")


@pytest.mark.parametrize("sql_backend", ["sqlite"], indirect=True)
async def test_the_reading_connection_keeps_a_small_page_cache(sql_backend: Backend) -> None:
    """The writer's commits reset the reader's cache, so the reader keeps a small one (fast_path.py)."""
    _sqlite_backend(sql_backend)
    store = SqlPersistedGrantStore(sql_backend.db)
    await store.store(grant("k"))
    assert await store.get("k") == grant("k")
    fast = sql_backend.db._fast_path()
    assert isinstance(fast, fast_path.SqliteFastPath)
    assert fast._reader is not None and fast._writer is not None
    assert fast._reader.raw.execute("PRAGMA cache_size").fetchone()[0] == -fast_path.READER_CACHE_KIB
    assert fast._writer.raw.execute("PRAGMA cache_size").fetchone()[0] == -2000  # SQLite's default
    assert fast_path.READER_CACHE_KIB < 2000
