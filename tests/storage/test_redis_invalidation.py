"""Configuration cache invalidation: the message format, what a message drops from this process's caching
stores, and (with IDENTITYSERVER_TEST_REDIS_URL, marker ``redis``) a round trip through Redis pub/sub. The
multi-node behaviour is tests/scale_out/test_configuration_changes.py."""

from __future__ import annotations

import asyncio
import os
import secrets
from typing import Any

import pytest

from identityserver.models.client import Client
from identityserver.storage.redis.invalidation import Invalidation, RedisConfigurationInvalidation
from identityserver.stores.caching import CachingClientStore, clear_cached_configuration, forget_cached_clients
from tests.storage.conftest import REDIS_ENV
from tests.support.clock import FakeClock


class CountingClients:
    def __init__(self) -> None:
        self.loads: list[str] = []

    async def find_client_by_id(self, client_id: str) -> Client | None:
        self.loads.append(client_id)
        return Client(client_id=client_id)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"kind": "client", "ids": ["a", "b"]}', Invalidation("client", ("a", "b"))),
        ('{"kind": "all", "ids": []}', Invalidation("all")),
        ('{"kind": "client", "ids": [1]}', Invalidation("all")),
        ("not json", Invalidation("all")),
        (b'{"kind": "client"}', Invalidation("client")),
    ],
)
def test_messages_round_trip_and_unreadable_ones_clear_everything(raw: Any, expected: Invalidation):
    assert Invalidation.from_json(raw) == expected
    assert Invalidation.from_json(expected.to_json()) == expected


async def test_a_message_drops_the_named_clients_from_every_caching_store_of_the_process():
    inner = CountingClients()
    store = CachingClientStore(inner, FakeClock(), 900)
    for client_id in ("a", "b", "a", "b"):
        await store.find_client_by_id(client_id)
    assert inner.loads == ["a", "b"]
    forget_cached_clients(["a"])
    await store.find_client_by_id("a")
    await store.find_client_by_id("b")
    assert inner.loads == ["a", "b", "a"]
    clear_cached_configuration()
    await store.find_client_by_id("b")
    assert inner.loads == ["a", "b", "a", "b"]


def redis_urls() -> list[Any]:
    return [pytest.param(os.environ[REDIS_ENV], marks=pytest.mark.redis)] if os.environ.get(REDIS_ENV) else []


if redis_urls():

    @pytest.mark.parametrize("url", redis_urls())
    async def test_a_published_change_reaches_a_listener_and_a_resubscription_clears_everything(url: str):
        channel = f"identityserver:test:{secrets.token_hex(4)}"
        listener = RedisConfigurationInvalidation.from_url(url, channel)
        publisher = RedisConfigurationInvalidation.from_url(url, channel)
        received: list[Invalidation] = []
        task = asyncio.ensure_future(listener.listen(received.append))
        try:
            for _ in range(100):
                if received:
                    break
                await asyncio.sleep(0.02)
            assert received == [Invalidation("all")]  # on subscribing: messages may have been missed
            assert await publisher.clients_changed(["web"]) == 1
            for _ in range(100):
                if len(received) > 1:
                    break
                await asyncio.sleep(0.02)
            assert received[1:] == [Invalidation("client", ("web",))]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await listener.close()
            await publisher.close()
