"""Gathered statements of the PostgreSQL fast path (issue 15, ``postgres_fast_path.py``): point reads, takes and
consumes that arrive while one of their kind is in flight run together as one statement over arrays, and each
call still gets exactly what it would have got on its own: its own row, no row of another key, and, of several
takes or consumes of one key, in one process or in two, exactly one wins."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from identityserver.models.users import TestUser
from identityserver.storage.sqlalchemy.stores import SqlDeviceFlowStore, SqlServerSideSessionStore
from identityserver.storage.sqlalchemy.stores.persisted_grants import SqlPersistedGrantStore
from identityserver.storage.sqlalchemy.stores.users import SqlUserStore, save_users
from identityserver.testing.contracts.device_flow import code as device_code
from identityserver.testing.contracts.server_side_sessions import session
from tests.storage.conftest import Backend
from tests.storage.test_fast_path import NOW, count, grant

pytestmark = pytest.mark.postgres

SQL_POSTGRES = [pytest.param("postgresql", marks=pytest.mark.postgres)]


class Statements:
    """Records the statements the fast path sends: ``fetch`` (the gathered forms) and ``fetchrow`` (one call)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gathered: list[tuple[str, int]] = []  # (SQL, number of keys)
        self.single: list[str] = []
        fetch, fetchrow = asyncpg.connection.Connection.fetch, asyncpg.connection.Connection.fetchrow

        async def recording_fetch(connection: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            self.gathered.append((query, len(args[0]) if args and isinstance(args[0], list) else 0))
            return await fetch(connection, query, *args, **kwargs)

        async def recording_fetchrow(connection: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            self.single.append(query)
            return await fetchrow(connection, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.connection.Connection, "fetch", recording_fetch)
        monkeypatch.setattr(asyncpg.connection.Connection, "fetchrow", recording_fetchrow)

    def of(self, verb: str) -> list[int]:
        return [keys for query, keys in self.gathered if query.startswith(verb) and "PersistedGrants" in query]


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
async def test_concurrent_reads_share_statements_and_each_gets_its_own_row(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlPersistedGrantStore(sql_backend.db)
    await asyncio.gather(*(store.store(grant(f"g{i:03}", data=f'{{"n": {i}}}')) for i in range(60)))
    statements = Statements(monkeypatch)
    keys = [f"g{i:03}" for i in range(60)] + ["g007", "g007", "missing-1", "g042", "missing-2"]
    found = await asyncio.gather(*(store.get(key) for key in keys))
    for key, grant_found in zip(keys, found, strict=True):
        if key.startswith("missing"):
            assert grant_found is None
        else:
            assert grant_found == grant(key, data=f'{{"n": {int(key[1:])}}}')
    assert found[7] is not found[60]  # callers of one key each get their own copy
    groups = statements.of("SELECT")
    assert groups and max(groups) > 10  # 65 reads at once: far fewer statements than reads
    assert len(statements.single) + len(groups) < 20
    # one call alone runs the plain statement: nothing to gather
    statements.gathered.clear()
    assert await store.get("g001") == grant("g001", data='{"n": 1}')
    assert statements.gathered == []


async def stored_with_others(a: SqlPersistedGrantStore, b: SqlPersistedGrantStore, key: str, round_: int) -> list[str]:
    """``key`` stored through node ``a``, and ten other grants through node ``b``; their keys."""
    await a.store(grant(key))
    others = [f"other-{round_}-{i}" for i in range(10)]
    await asyncio.gather(*(b.store(grant(k)) for k in others))
    return others


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
async def test_of_twenty_takes_of_one_code_across_two_nodes_exactly_one_wins(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements = Statements(monkeypatch)
    node_a = sql_backend.db
    async with sql_backend.another_node() as node_b:
        a, b = SqlPersistedGrantStore(node_a), SqlPersistedGrantStore(node_b)
        for round_ in range(5):
            code = f"code-{round_}"
            others = await stored_with_others(a, b, code, round_)
            takes = [(a if i % 2 else b).take(code) for i in range(20)]
            results = await asyncio.gather(*takes, *(a.take(k) for k in others))
            winners = [r for r in results[:20] if r is not None]
            assert winners == [grant(code)]
            assert results[20:] == [grant(k) for k in others]  # each take of its own key got its row
        assert max(statements.of("DELETE")) > 1  # the takes of each node were gathered
        assert await count(node_a) == 0


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
@pytest.mark.parametrize("successors", [False, True], ids=["tombstone", "tombstone and successor"])
async def test_of_twenty_rotations_of_one_refresh_token_across_two_nodes_one_leaves_its_tombstone(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch, successors: bool
) -> None:
    """With ``successors`` each rotation also stores its successor in the same statement: only the winner's is
    kept."""
    statements = Statements(monkeypatch)
    node_a = sql_backend.db
    async with sql_backend.another_node() as node_b:
        a, b = SqlPersistedGrantStore(node_a), SqlPersistedGrantStore(node_b)
        for round_ in range(5):
            token, tombstone = f"rt-{round_}", f"used-{round_}"
            others = await stored_with_others(a, b, token, round_)
            nexts = [grant(f"next-{round_}-{i}") if successors else None for i in range(20)]
            replaces = [(a if i % 2 else b).replace(token, grant(tombstone, data=str(i)), nexts[i]) for i in range(20)]
            results = await asyncio.gather(
                *replaces,
                *(a.replace(k, grant(k + "-used"), grant(k + "-next") if successors else None) for k in others),
            )
            assert sum(results[:20]) == 1 and all(results[20:])
            winner = results.index(True)
            assert await a.get(tombstone) == grant(tombstone, data=str(winner))
            stored = [await b.get(f"next-{round_}-{i}") for i in range(20)]
            assert stored == [nexts[i] if i == winner else None for i in range(20)]
            for key in [token, *others]:
                assert await b.get(key) is None
            assert [await b.get(k + "-used") for k in others] == [grant(k + "-used") for k in others]
            assert [await b.get(k + "-next") for k in others] == [
                grant(k + "-next") if successors else None for k in others
            ]
        assert max(statements.of("WITH")) > 1  # the replaces of each node were gathered
        assert await count(node_a) == 5 * 11 * (2 if successors else 1)


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
async def test_of_concurrent_consumes_of_one_token_exactly_one_wins_with_its_own_time(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements = Statements(monkeypatch)
    store = SqlPersistedGrantStore(sql_backend.db)
    await asyncio.gather(*(store.store(grant(k)) for k in ("rt", "rt-2", "rt-3")))
    times = [NOW + timedelta(seconds=i) for i in range(20)]
    results = await asyncio.gather(
        *(store.consume("rt", at) for at in times), store.consume("rt-2", times[5]), store.consume("rt-3", times[9])
    )
    winners = [(i, r) for i, r in enumerate(results[:20]) if r is not None]
    assert len(winners) == 1
    index, winner = winners[0]
    assert winner.consumed_time == times[index]  # the winner's own time, not another call's
    assert (await store.get("rt")) == grant("rt", consumed_time=times[index])
    assert results[20] is not None and results[20].consumed_time == times[5]
    assert results[21] is not None and results[21].consumed_time == times[9]
    assert max(statements.of("UPDATE")) > 1
    assert await store.consume("rt", NOW) is None  # consumed once, for good


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
async def test_a_value_the_server_refuses_fails_only_its_own_call(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements = Statements(monkeypatch)
    store = SqlPersistedGrantStore(sql_backend.db)
    await asyncio.gather(*(store.store(grant(f"k{i}")) for i in range(10)))
    keys = [f"k{i}" for i in range(10)]
    results = await asyncio.gather(
        *(store.take(k) for k in keys[:5]), store.take("bad\x00key"), *(store.take(k) for k in keys[5:8]),
        store.take(123), *(store.take(k) for k in keys[8:]),  # type: ignore[arg-type]
        return_exceptions=True,
    )  # fmt: skip
    assert isinstance(results[5], asyncpg.PostgresError)  # PostgreSQL refuses a NUL in text
    assert isinstance(results[9], asyncpg.PostgresError | asyncpg.InterfaceError)  # the driver, a number for text
    assert [r for i, r in enumerate(results) if i not in (5, 9)] == [grant(k) for k in keys]
    assert any(keys > 1 for keys in statements.of("DELETE"))  # the gathered take failed whole, then each alone
    assert await count(sql_backend.db) == 0


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
async def test_gathered_reads_on_connections_the_server_dropped_run_on_fresh_ones(sql_backend: Backend) -> None:
    store = SqlPersistedGrantStore(sql_backend.db)
    await asyncio.gather(*(store.store(grant(f"g{i}")) for i in range(20)))
    await asyncio.gather(*(store.get(f"g{i}") for i in range(20)))  # the pool's connections are open
    async with sql_backend.db.write() as conn:  # as a server restart or a fail-over drops them
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await asyncio.sleep(0.1)
    assert await asyncio.gather(*(store.get(f"g{i}") for i in range(20))) == [grant(f"g{i}") for i in range(20)]


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
async def test_users_looked_up_together_each_get_their_own(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = [TestUser(subject_id=f"sub-{i}", username=f"user{i}", password_hash="x") for i in range(8)]
    async with sql_backend.db.write() as conn:
        await save_users(conn, users)
    statements = Statements(monkeypatch)
    store = SqlUserStore(sql_backend.db)
    subjects = [f"sub-{i % 8}" for i in range(40)] + ["sub-none"]
    found = await asyncio.gather(*(store.find_by_subject_id(s) for s in subjects))
    assert [u.subject_id if u else None for u in found] == [*subjects[:40], None]
    assert [u.username if u else None for u in found][:8] == [f"user{i}" for i in range(8)]
    assert any(keys > 1 for query, keys in statements.gathered if "IdentityServerUsers" in query)


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
async def test_sign_ins_that_look_users_up_by_name_together_each_get_their_own(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = [TestUser(subject_id=f"sub-{i}", username=f"User{i}", password_hash="x") for i in range(8)]
    async with sql_backend.db.write() as conn:
        await save_users(conn, users)
    statements = Statements(monkeypatch)
    store = SqlUserStore(sql_backend.db)
    names = [f"USER{i % 8}" if i % 3 else f"user{i % 8}" for i in range(40)] + ["nobody", "user1 "]
    found = await asyncio.gather(*(store.find_by_username(n) for n in names))
    assert [u.subject_id if u else None for u in found] == [*(f"sub-{i % 8}" for i in range(40)), None, None]
    by_name = [keys for query, keys in statements.gathered if "NormalizedUsername" in query]
    assert by_name and max(by_name) > 1  # 42 lookups at once: gathered, not one statement each
    assert len(statements.single) + len(by_name) < 20


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
async def test_a_take_whose_caller_gave_up_leaves_the_row_to_the_next_caller_of_its_key(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements = Statements(monkeypatch)
    store = SqlPersistedGrantStore(sql_backend.db)
    await asyncio.gather(*(store.store(grant(k)) for k in ("lead", "code")))
    leader = asyncio.ensure_future(store.take("lead"))  # in flight: the takes after it wait to be gathered
    await asyncio.sleep(0)
    gave_up = asyncio.ensure_future(store.take("code"))
    patient = asyncio.ensure_future(store.take("code"))
    await asyncio.sleep(0)
    gave_up.cancel()
    assert await leader == grant("lead")
    assert await patient == grant("code")
    assert gave_up.cancelled()
    assert statements.of("DELETE") == [1]  # the two takes of "code" went as one statement of one key


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
async def test_device_polls_are_gathered_and_of_twenty_redemptions_on_two_nodes_one_wins(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements = Statements(monkeypatch)
    node_a = sql_backend.db
    async with sql_backend.another_node() as node_b:
        a, b = SqlDeviceFlowStore(node_a), SqlDeviceFlowStore(node_b)
        for i in range(10):
            await a.store_device_authorization(f"dc{i}", f"uc{i}", device_code(description=f"TV {i}"))
        polls = await asyncio.gather(
            *(a.find_by_device_code(f"dc{i % 10}") for i in range(30)), a.find_by_device_code("none")
        )
        assert [p.description if p else None for p in polls] == [*(f"TV {i % 10}" for i in range(30)), None]
        taken = await asyncio.gather(*((a if i % 2 else b).take_by_device_code("dc3") for i in range(20)))
        assert [t.description for t in taken if t is not None] == ["TV 3"]
        assert await a.find_by_device_code("dc3") is None
        gathered = [keys for query, keys in statements.gathered if "DeviceCodes" in query]
        assert max(gathered) > 1
        # the device page's reads by user code, many at once: each its own device, gathered
        statements.gathered.clear()
        pages = await asyncio.gather(
            *(b.find_by_user_code(f"uc{i % 10}") for i in range(30)), b.find_by_user_code("uc3")
        )
        assert [p.description if p else None for p in pages] == [
            *(None if i % 10 == 3 else f"TV {i % 10}" for i in range(30)),  # uc3's device code was redeemed
            None,
        ]
        by_user_code = [keys for query, keys in statements.gathered if '"UserCode" = ANY' in query]
        assert by_user_code and max(by_user_code) > 1


@pytest.mark.parametrize("sql_backend", SQL_POSTGRES, indirect=True)
async def test_server_side_sessions_read_together_each_get_their_own(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlServerSideSessionStore(sql_backend.db)
    for i in range(6):
        await store.create_session(session(f"key-{i}", subject_id=f"sub-{i}"))
    statements = Statements(monkeypatch)
    keys = [f"key-{i % 6}" for i in range(24)] + ["key-none"]
    found = await asyncio.gather(*(store.get_session(k) for k in keys))
    assert [(s.key, s.subject_id) if s else None for s in found] == [
        *((f"key-{i % 6}", f"sub-{i % 6}") for i in range(24)),
        None,
    ]
    assert max(keys for query, keys in statements.gathered if "ServerSideSessions" in query) > 1
