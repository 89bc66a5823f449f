"""ReplayCache behaviour (atomic insert-if-absent with expiry) in memory, on SQL and on Redis."""

from __future__ import annotations

import asyncio
import os
import secrets

import pytest

from identityserver.clock import SystemClock
from identityserver.storage.sqlalchemy.stores import SqlReplayCache
from identityserver.stores.in_memory.replay_cache import InMemoryReplayCache
from tests.storage.conftest import REDIS_ENV, all_backends, open_backend


def replay_backends():
    params = list(all_backends())
    if os.environ.get(REDIS_ENV):
        params.append(pytest.param("redis", marks=pytest.mark.redis))
    return params


@pytest.fixture(params=replay_backends())
async def cache(request, tmp_path):
    if request.param == "redis":
        from identityserver.storage.redis import RedisReplayCache

        redis_cache = RedisReplayCache.from_url(os.environ[REDIS_ENV], prefix=f"test:{secrets.token_hex(4)}:")
        try:
            yield redis_cache
        finally:
            await redis_cache.close()
        return
    async with open_backend(request.param, request, tmp_path) as backend:
        yield InMemoryReplayCache() if backend.kind == "in_memory" else SqlReplayCache(backend.db, SystemClock())


async def test_a_value_is_accepted_once(cache):
    assert await cache.add("dpop", "jti-1", 60) is True
    assert await cache.add("dpop", "jti-1", 60) is False


async def test_purposes_are_separate(cache):
    assert await cache.add("dpop", "same", 60) is True
    assert await cache.add("client-assertion", "same", 60) is True


async def test_an_expired_value_is_accepted_again(cache):
    assert await cache.add("dpop", "short", 0.2) is True
    await asyncio.sleep(0.4)
    assert await cache.add("dpop", "short", 60) is True
    assert await cache.add("dpop", "short", 60) is False


async def test_of_many_concurrent_adds_exactly_one_is_accepted(cache):
    results = await asyncio.gather(*(cache.add("dpop", "race", 60) for _ in range(20)))
    assert results.count(True) == 1


async def test_long_and_unicode_handles_are_accepted(cache):
    assert await cache.add("dpop", "ü" * 5000, 60) is True
    assert await cache.add("dpop", "ü" * 5000, 60) is False
