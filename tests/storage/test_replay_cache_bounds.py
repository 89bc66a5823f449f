"""security.md L2: a replay cache holds about what is still live (rate x lifetime) and stops growing: expired
entries are swept, on every backend, and a full in-memory cache does not sweep on every add."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

import identityserver.stores.in_memory.replay_cache as in_memory_module
from identityserver.storage.sqlalchemy.entities.operational import replay_cache as replay_table
from identityserver.storage.sqlalchemy.stores import SqlReplayCache
from identityserver.stores.in_memory.replay_cache import InMemoryReplayCache
from tests.support.clock import FakeClock, FakeMonotonic


async def test_an_in_memory_cache_drops_what_expired_and_keeps_what_lives(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeMonotonic()
    monkeypatch.setattr(in_memory_module, "monotonic", clock)
    cache = InMemoryReplayCache()
    for second in range(600):  # ten proofs a second for ten minutes, each live for 60 s
        clock.now += 1
        for i in range(10):
            assert await cache.add("dpop", f"{second}-{i}", 60)
    assert len(cache._entries) <= 10 * (60 + 60)  # what lives, and at most a minute's worth awaiting its sweep
    assert await cache.add("dpop", "599-9", 60) is False  # the live ones are still refused


async def test_a_full_in_memory_cache_of_live_entries_sweeps_rarely(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeMonotonic()
    monkeypatch.setattr(in_memory_module, "monotonic", clock)
    cache = InMemoryReplayCache(max_entries=100)
    sweeps = 0
    sweep = cache._sweep

    def counted(now: float) -> None:
        nonlocal sweeps
        sweeps += 1
        sweep(now)

    monkeypatch.setattr(cache, "_sweep", counted)
    for i in range(1_000):  # all live: nothing can be dropped
        assert await cache.add("dpop", str(i), 3600)
    assert len(cache._entries) == 1_000  # never a live entry dropped
    assert sweeps <= 6, sweeps  # the first add, then at 100, 200, 400, 800: not one sweep per add
    assert await cache.add("dpop", "0", 3600) is False


async def test_a_sql_cache_sweeps_expired_rows(sql_backend: Any) -> None:
    clock = FakeClock()
    cache = SqlReplayCache(sql_backend.database, clock)
    for i in range(50):
        assert await cache.add("dpop", f"old-{i}", 30)
    clock.advance(120)  # past their lifetime and the sweep interval
    assert await cache.add("dpop", "new", 30)
    async with sql_backend.database.read() as connection:
        rows = (await connection.execute(select(func.count()).select_from(replay_table))).scalar_one()
    assert rows == 1
    assert await cache.add("dpop", "new", 30) is False
