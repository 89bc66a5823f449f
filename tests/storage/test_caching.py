"""CachingClientStore / CachingResourceStore (Duende CachingClientStore, ResourceStoreCacheTests)."""

from __future__ import annotations

from identityserver.models.client import Client
from identityserver.models.resources import ApiResource, ApiScope, IdentityResource
from identityserver.stores.caching import NEGATIVE_SECONDS, CachingClientStore, CachingResourceStore
from identityserver.stores.in_memory import InMemoryClientStore, InMemoryResourceStore
from tests.support.clock import FakeClock


class CountingClients(InMemoryClientStore):
    calls = 0

    async def find_client_by_id(self, client_id):
        self.calls += 1
        return await super().find_client_by_id(client_id)


class CountingResources(InMemoryResourceStore):
    calls = 0

    async def find_api_scopes_by_name(self, scope_names):
        self.calls += 1
        return await super().find_api_scopes_by_name(scope_names)

    async def find_api_resources_by_name(self, names):
        self.calls += 1
        return await super().find_api_resources_by_name(names)


async def test_clients_are_read_once_per_expiration():
    clock = FakeClock()
    inner = CountingClients([Client("c")])
    store = CachingClientStore(inner, clock, 900)
    for _ in range(5):
        assert (await store.find_client_by_id("c")).client_id == "c"
    assert inner.calls == 1
    clock.advance(901)
    await store.find_client_by_id("c")
    assert inner.calls == 2


async def test_unknown_clients_are_cached_briefly_and_apart_from_known_ones():
    """Issue 16 item 7: an unknown id costs one query per ``NEGATIVE_SECONDS``, not one per request."""
    inner = CountingClients([])
    clock = FakeClock()
    store = CachingClientStore(inner, clock, 900)
    assert await store.find_client_by_id("x") is None
    assert await store.find_client_by_id("x") is None
    assert inner.calls == 1
    clock.advance(NEGATIVE_SECONDS + 1)
    assert await store.find_client_by_id("x") is None
    assert inner.calls == 2
    store.forget("x")
    assert await store.find_client_by_id("x") is None
    assert inner.calls == 3


async def test_zero_expiration_disables_the_cache():
    inner = CountingClients([Client("c")])
    store = CachingClientStore(inner, FakeClock(), 0)
    await store.find_client_by_id("c")
    await store.find_client_by_id("c")
    assert inner.calls == 2


async def test_resource_queries_are_cached_by_name_set_and_keep_request_order():
    clock = FakeClock()
    inner = CountingResources([IdentityResource("openid")], [ApiScope("a"), ApiScope("b")], [ApiResource("r", ["a"])])
    store = CachingResourceStore(inner, clock, 900)
    assert [s.name for s in await store.find_api_scopes_by_name(["b", "a"])] == ["b", "a"]
    assert [s.name for s in await store.find_api_scopes_by_name(["a", "b", "a"])] == ["a", "b"]
    assert inner.calls == 1
    assert [r.name for r in await store.find_api_resources_by_scope_name(["a"])] == ["r"]
    assert [r.name for r in await store.find_identity_resources_by_scope_name(["openid", "x"])] == ["openid"]
    assert len((await store.get_all_resources()).api_scopes) == 2
    clock.advance(901)
    await store.find_api_scopes_by_name(["a", "b"])
    assert inner.calls == 2


async def test_unknown_api_names_are_cached_briefly_and_known_ones_for_the_expiration():
    """Introspection looks up "urn" before "urn:api1" for unencoded Basic credentials: both answers are cached."""
    clock = FakeClock()
    inner = CountingResources([], [ApiScope("a")], [ApiResource("urn:api1", ["a"])])
    store = CachingResourceStore(inner, clock, 900)
    for _ in range(3):
        assert await store.find_api_resources_by_name(["urn"]) == []
        assert [r.name for r in await store.find_api_resources_by_name(["urn:api1"])] == ["urn:api1"]
    assert inner.calls == 2
    clock.advance(NEGATIVE_SECONDS + 1)
    assert await store.find_api_resources_by_name(["urn"]) == []
    assert [r.name for r in await store.find_api_resources_by_name(["urn:api1"])] == ["urn:api1"]
    assert inner.calls == 3
    store.clear()
    assert await store.find_api_resources_by_name(["urn"]) == []
    assert inner.calls == 4


async def test_caches_stay_bounded():
    from identityserver.stores.caching import TtlCache

    clock = FakeClock()
    cache: TtlCache[int] = TtlCache(clock, 900, max_entries=10)

    async def load():
        return 1

    for i in range(25):
        await cache.get_or_add(i, load)
    assert len(cache._entries) <= 10
