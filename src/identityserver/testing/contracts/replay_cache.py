"""``ReplayCache`` contract: an atomic insert-if-absent per purpose, with expiry (waits on the real clock)."""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio

from identityserver.stores.protocols import ReplayCache
from identityserver.testing.factory import StoreFactory


class ReplayCacheContract:
    """Needs ``store_factory.replay_cache``."""

    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def cache(self, store_factory: StoreFactory) -> ReplayCache:
        return await store_factory.replay_cache()

    async def test_a_value_is_accepted_once(self, cache: ReplayCache) -> None:
        assert await cache.add("dpop", "jti-1", 60) is True
        assert await cache.add("dpop", "jti-1", 60) is False

    async def test_purposes_are_separate(self, cache: ReplayCache) -> None:
        assert await cache.add("dpop", "same", 60) is True
        assert await cache.add("client-assertion", "same", 60) is True

    async def test_an_expired_value_is_accepted_again(self, cache: ReplayCache) -> None:
        assert await cache.add("dpop", "short", 0.2) is True
        await asyncio.sleep(0.4)
        assert await cache.add("dpop", "short", 60) is True
        assert await cache.add("dpop", "short", 60) is False

    async def test_of_many_concurrent_adds_exactly_one_is_accepted(self, cache: ReplayCache) -> None:
        results = await asyncio.gather(*(cache.add("dpop", "race", 60) for _ in range(20)))
        assert results.count(True) == 1

    async def test_long_and_unicode_handles_are_accepted(self, cache: ReplayCache) -> None:
        assert await cache.add("dpop", "ü" * 5000, 60) is True
        assert await cache.add("dpop", "ü" * 5000, 60) is False
