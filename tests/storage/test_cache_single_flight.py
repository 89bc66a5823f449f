"""Configuration caches load a missing or expired entry once, however many requests ask at the same time."""

from __future__ import annotations

import asyncio

import pytest

from identityserver.stores.caching import TtlCache
from tests.support.clock import FakeClock


async def test_concurrent_misses_share_one_load():
    cache: TtlCache[str] = TtlCache(FakeClock(), 60)
    loads = 0

    async def load() -> str:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0)
        return "client"

    results = await asyncio.gather(*(cache.get_or_add("k", load) for _ in range(64)))
    assert results == ["client"] * 64 and loads == 1


async def test_a_failing_load_fails_its_waiters_once_and_the_next_call_loads_again():
    cache: TtlCache[str] = TtlCache(FakeClock(), 60)
    calls = 0

    async def load() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if calls == 1:
            raise OSError("database down")
        return "ok"

    outcomes = await asyncio.gather(*(cache.get_or_add("k", load) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(o, OSError) for o in outcomes) and calls == 1
    assert await cache.get_or_add("k", load) == "ok" and calls == 2


async def test_a_cancelled_loader_lets_a_waiter_load():
    cache: TtlCache[str] = TtlCache(FakeClock(), 60)
    started = asyncio.Event()

    async def slow() -> str:
        started.set()
        await asyncio.sleep(3600)
        return "never"

    async def fast() -> str:
        return "fresh"

    first = asyncio.ensure_future(cache.get_or_add("k", slow))
    await started.wait()
    second = asyncio.ensure_future(cache.get_or_add("k", fast))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await second == "fresh"
