"""ReplayCache behaviour (``identityserver.testing.contracts.replay_cache``: atomic insert-if-absent with expiry)
in memory, on SQL and on Redis."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import pytest

from identityserver.stores.protocols import ReplayCache
from identityserver.testing.contracts import ReplayCacheContract
from identityserver.testing.factory import StoreFactory
from tests.storage.conftest import REDIS_ENV, all_backends, open_backend
from tests.storage.contract.conftest import factory_for


def replay_backends():
    params = list(all_backends())
    if os.environ.get(REDIS_ENV):
        params.append(pytest.param("redis", marks=pytest.mark.redis))
    return params


class RedisStoreFactory(StoreFactory):
    """Replay caches on the Redis server of ``IDENTITYSERVER_TEST_REDIS_URL``, under a key prefix of their own."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opened: list = []

    async def replay_cache(self) -> ReplayCache:
        from identityserver.storage.redis import RedisReplayCache

        cache = RedisReplayCache.from_url(self.url, prefix=f"test:{secrets.token_hex(4)}:")
        self.opened.append(cache)
        return cache

    async def close(self) -> None:
        for cache in self.opened:
            await cache.close()


@pytest.fixture(params=replay_backends())
async def store_factory(request, tmp_path) -> AsyncIterator[StoreFactory]:
    if request.param == "redis":
        redis_factory = RedisStoreFactory(os.environ[REDIS_ENV])
        try:
            yield redis_factory
        finally:
            await redis_factory.close()
        return
    async with open_backend(request.param, request, tmp_path) as backend:
        yield factory_for(backend)


class TestReplayCache(ReplayCacheContract):
    pass
