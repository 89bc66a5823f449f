"""Key reloads never make token requests wait (stale-while-revalidate), and a reload parses only new keys."""

from __future__ import annotations

import asyncio
from unittest import mock

from identityserver.options import KeyManagementOptions
from identityserver.services.key_management import key_manager as km
from identityserver.services.key_management.key_manager import DefaultKeyManager
from identityserver.stores.in_memory import InMemorySigningKeyStore
from tests.support.clock import FakeClock


async def test_expired_cache_is_served_while_the_store_is_reread_in_the_background():
    clock = FakeClock()
    store = InMemorySigningKeyStore()
    manager = DefaultKeyManager(KeyManagementOptions(), store, None, clock)
    first = await manager.get_all_keys()
    clock.advance(seconds=KeyManagementOptions().initialization_duration + 1)
    await manager.refresh_keys()  # fill the cache with the normal duration
    other = DefaultKeyManager(KeyManagementOptions(), store, None, clock)
    extra = await other.create_and_store_new_key("RS256", clock.utc_now())  # another process adds a key
    clock.advance(days=2)  # past the 24 h cache
    load = mock.AsyncMock(wraps=store.load_keys)
    with mock.patch.object(store, "load_keys", load):
        stale = await manager.get_all_keys()
        assert [k.id for k in stale] == [k.id for k in first]  # answered from the cache, no waiting
        await asyncio.sleep(0)
        await manager._refresh_task
    assert load.await_count == 1
    assert extra.id in [k.id for k in await manager.get_all_keys()]


async def test_a_reload_does_not_parse_known_keys_again():
    clock = FakeClock()
    store = InMemorySigningKeyStore()
    manager = DefaultKeyManager(KeyManagementOptions(), store, None, clock)
    await manager.get_all_keys()
    clock.advance(days=2)
    with mock.patch.object(km, "deserialize_key", wraps=km.deserialize_key) as parse:
        await manager.refresh_keys()
    assert parse.call_count == 0
