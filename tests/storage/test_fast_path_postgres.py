"""Grouped writes of the PostgreSQL fast path (issue 15): changes that return nothing and arrive while a group is
written go to the server together, as one pipelined ``executemany`` (one round trip, one commit); a group that
fails is run again statement by statement, so only a failing change fails; rows are written in the same order in
every process, so two nodes writing the same rows never deadlock."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from identityserver.storage.sqlalchemy import postgres_fast_path as fast_path
from identityserver.storage.sqlalchemy.engine import Database
from tests.storage.conftest import Backend
from tests.storage.test_fast_path import count, grant

pytestmark = pytest.mark.postgres

SQL_POSTGRES = [pytest.param("postgresql", marks=pytest.mark.postgres)]


class Recorder:
    """Counts the groups written with ``executemany`` and keeps what any of them raised."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.groups: list[int] = []
        self.errors: list[BaseException] = []
        original = asyncpg.connection.Connection.executemany

        async def recording(connection: Any, command: str, args: Any, **kwargs: Any) -> Any:
            rows = list(args)
            try:
                return await original(connection, command, rows, **kwargs)
            except BaseException as error:
                self.errors.append(error)
                raise
            finally:
                self.groups.append(len(rows))

        monkeypatch.setattr(asyncpg.connection.Connection, "executemany", recording)


def store_of(database: Database) -> Any:
    from identityserver.storage.sqlalchemy.stores.persisted_grants import SqlPersistedGrantStore

    return SqlPersistedGrantStore(database)


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
async def test_concurrent_stores_are_written_in_groups(sql_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder(monkeypatch)
    store = store_of(sql_backend.db)
    await asyncio.gather(*(store.store(grant(f"g{i}")) for i in range(100)))
    assert await count(sql_backend.db) == 100
    assert recorder.groups and sum(recorder.groups) <= 100
    assert max(recorder.groups) > 10  # 100 changes at once: far fewer round trips than changes
    assert await store.get("g42") == grant("g42")
    await asyncio.gather(*(store.remove(f"g{i}") for i in range(50)))  # deletes group too
    assert await count(sql_backend.db) == 50


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
async def test_a_failing_change_fails_alone_and_the_rest_of_its_group_is_written(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(monkeypatch)
    store = store_of(sql_backend.db)
    good = [store.store(grant(f"g{i}")) for i in range(20)]
    bad = store.store(grant("bad", data=None))  # Data is NOT NULL
    results = await asyncio.gather(*good[:10], bad, *good[10:], return_exceptions=True)
    assert [i for i, r in enumerate(results) if isinstance(r, Exception)] == [10]
    assert isinstance(results[10], asyncpg.NotNullViolationError)
    assert any(isinstance(e, asyncpg.NotNullViolationError) for e in recorder.errors)  # the group failed whole
    assert await count(sql_backend.db) == 20


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
async def test_two_nodes_writing_the_same_rows_in_opposite_orders_do_not_deadlock(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(monkeypatch)
    node_a = sql_backend.db
    async with sql_backend.another_node() as node_b:
        a, b = store_of(node_a), store_of(node_b)
        keys = [f"shared-{i:02}" for i in range(40)]
        for round_ in range(5):
            await asyncio.gather(
                *(a.store(grant(k, data=f'{{"round": {round_}}}')) for k in keys),
                *(b.store(grant(k, data=f'{{"round": {round_}}}')) for k in reversed(keys)),
            )
        assert not [e for e in recorder.errors if isinstance(e, asyncpg.DeadlockDetectedError)]
        assert len(recorder.groups) >= 2
        assert await count(node_a) == 40
        assert (await b.get("shared-07")) == grant("shared-07", data='{"round": 4}')


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
async def test_a_group_on_connections_the_server_dropped_is_written_on_fresh_ones(sql_backend: Backend) -> None:
    from sqlalchemy import text

    store = store_of(sql_backend.db)
    await asyncio.gather(*(store.store(grant(f"before{i}")) for i in range(10)))
    async with sql_backend.db.write() as conn:  # as a server restart or a fail-over drops them
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await asyncio.sleep(0.1)
    await asyncio.gather(*(store.store(grant(f"after{i}")) for i in range(30)))
    assert await count(sql_backend.db) == 40


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
async def test_when_no_connection_can_be_had_a_group_fails_at_once(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that cannot be reached fails the whole group with one attempt, not one attempt per change (each
    could wait for a connection timeout)."""
    store = store_of(sql_backend.db)
    await store.store(grant("warm"))
    attempts = 0

    async def unreachable(self: fast_path._ConnectionPool) -> Any:
        nonlocal attempts
        attempts += 1
        raise ConnectionRefusedError("the database cannot be reached")

    monkeypatch.setattr(fast_path._ConnectionPool, "acquire", unreachable)
    results = await asyncio.gather(*(store.store(grant(f"g{i}")) for i in range(30)), return_exceptions=True)
    assert all(isinstance(r, ConnectionRefusedError) for r in results)
    assert attempts <= 2
    monkeypatch.undo()
    await store.store(grant("back"))  # reachable again: the next change is written
    assert await count(sql_backend.db) == 2
