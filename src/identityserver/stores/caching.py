"""``CachingClientStore`` and ``CachingResourceStore`` (Duende ``Stores/Caching/*``): decorators that keep store
answers for ``options.caching`` (15 minutes by default) so that token requests do not read the client and
resource tables each time. Caches are bounded.

Unknown client ids and API names are cached too, for at most ``NEGATIVE_SECONDS`` and apart from the known ones
(issue 16 item 7): otherwise each unknown name costs a database query and answers measurably slower than a known
one (telling which exist), and a flood of made-up names would evict the known entries."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from identityserver.clock import Clock
from identityserver.models.client import Client
from identityserver.models.resources import ApiResource, ApiScope, IdentityResource, Resources, in_requested_order
from identityserver.stores.protocols import ClientStore, ResourceStore

V = TypeVar("V")
DEFAULT_MAX_ENTRIES = 10_000
NEGATIVE_SECONDS = 30.0
"""Longest time an unknown client id or API name is remembered as unknown (a client added in another process
with an id someone just tried is found after at most this long; this process's own changes call ``forget``)."""


class TtlCache(Generic[V]):
    """A small expiring cache driven by a ``Clock``; when full it drops expired entries, then everything."""

    def __init__(self, clock: Clock, lifetime_seconds: float, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.clock = clock
        self.lifetime = timedelta(seconds=lifetime_seconds)
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[datetime, V]] = {}
        self._loading: dict[Hashable, asyncio.Future[V]] = {}

    def get(self, key: Hashable) -> V | None:
        """The value cached for ``key`` if it has not expired, else ``None`` (loads nothing)."""
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] > self.clock.utc_now() else None

    async def get_or_add(
        self, key: Hashable, load: Callable[[], Awaitable[V]], cache_if: Callable[[V], bool] | None = None
    ) -> V:
        now = self.clock.utc_now()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        while (loading := self._loading.get(key)) is not None:  # another request is loading this key
            try:
                return await asyncio.shield(loading)  # share its answer: no stampede on a cold or expired entry
            except asyncio.CancelledError:
                if not loading.cancelled():
                    raise  # this request was cancelled
                # the loading request was cancelled: load again (or wait for whoever does)
        loading = asyncio.get_running_loop().create_future()
        self._loading[key] = loading
        try:
            value = await load()
        except asyncio.CancelledError:
            loading.cancel()
            raise
        except BaseException as exc:
            loading.set_exception(exc)
            loading.exception()  # mark it retrieved: no warning when nobody else was waiting
            raise
        else:
            loading.set_result(value)
        finally:
            del self._loading[key]
        if (cache_if is None or cache_if(value)) and self.lifetime > timedelta(0):
            if len(self._entries) >= self.max_entries:
                self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
            self._entries[key] = (now + self.lifetime, value)
        return value

    def clear(self) -> None:
        self._entries.clear()

    def remove(self, key: Hashable) -> None:
        self._entries.pop(key, None)


class CachingClientStore:
    """Caches found clients for ``client_store_expiration`` seconds."""

    def __init__(self, inner: ClientStore, clock: Clock, expiration_seconds: int = 900) -> None:
        self.inner = inner
        self.cache_seconds: float = expiration_seconds
        self._cache: TtlCache[Client | None] = TtlCache(clock, expiration_seconds)
        self._unknown: TtlCache[Client | None] = TtlCache(clock, min(NEGATIVE_SECONDS, expiration_seconds))
        _client_stores.add(self)

    async def _load(self, client_id: str) -> Client | None:
        return await self._unknown.get_or_add(
            client_id, lambda: self.inner.find_client_by_id(client_id), cache_if=lambda c: c is None
        )

    async def find_client_by_id(self, client_id: str) -> Client | None:
        return await self._cache.get_or_add(client_id, lambda: self._load(client_id), cache_if=lambda c: c is not None)

    def forget(self, client_id: str) -> None:
        """Drop one client at once (changed or removed through RFC 7592 client management)."""
        self._cache.remove(client_id)
        self._unknown.remove(client_id)

    def clear(self) -> None:
        self._cache.clear()
        self._unknown.clear()


def _names(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted(set(names)))


class CachingResourceStore:
    """Caches each query's answer for ``resource_store_expiration`` seconds, keyed by the (sorted) names."""

    def __init__(self, inner: ResourceStore, clock: Clock, expiration_seconds: int = 900) -> None:
        self.inner = inner
        self.cache_seconds: float = expiration_seconds
        self._identity: TtlCache[list[IdentityResource]] = TtlCache(clock, expiration_seconds)
        self._scopes: TtlCache[list[ApiScope]] = TtlCache(clock, expiration_seconds)
        self._apis_by_scope: TtlCache[list[ApiResource]] = TtlCache(clock, expiration_seconds)
        self._apis: TtlCache[list[ApiResource]] = TtlCache(clock, expiration_seconds)
        self._unknown_apis: TtlCache[list[ApiResource]] = TtlCache(clock, min(NEGATIVE_SECONDS, expiration_seconds))
        self._all: TtlCache[Resources] = TtlCache(clock, expiration_seconds, max_entries=1)
        _resource_stores.add(self)

    async def find_identity_resources_by_scope_name(self, scope_names: Sequence[str]) -> list[IdentityResource]:
        key = _names(scope_names)
        found = await self._identity.get_or_add(key, lambda: self.inner.find_identity_resources_by_scope_name(key))
        return in_requested_order(found, scope_names)

    async def find_api_scopes_by_name(self, scope_names: Sequence[str]) -> list[ApiScope]:
        key = _names(scope_names)
        found = await self._scopes.get_or_add(key, lambda: self.inner.find_api_scopes_by_name(key))
        return in_requested_order(found, scope_names)

    async def find_api_resources_by_scope_name(self, scope_names: Sequence[str]) -> list[ApiResource]:
        key = _names(scope_names)
        return list(await self._apis_by_scope.get_or_add(key, lambda: self.inner.find_api_resources_by_scope_name(key)))

    async def find_api_resources_by_name(self, names: Sequence[str]) -> list[ApiResource]:
        key = _names(names)
        if self._unknown_apis.get(key) is not None:
            # the first split of unencoded Basic credentials ("urn" of "urn:api1:secret") on every introspection
            return []

        async def load() -> list[ApiResource]:
            return await self._unknown_apis.get_or_add(
                key, lambda: self.inner.find_api_resources_by_name(key), cache_if=lambda found: not found
            )

        found = await self._apis.get_or_add(key, load, cache_if=bool)
        return in_requested_order(found, names)

    async def get_all_resources(self) -> Resources:
        return await self._all.get_or_add("all", self.inner.get_all_resources)

    def clear(self) -> None:
        for cache in (self._identity, self._scopes, self._apis_by_scope, self._apis, self._unknown_apis, self._all):
            cache.clear()


_client_stores: weakref.WeakSet[CachingClientStore] = weakref.WeakSet()
_resource_stores: weakref.WeakSet[CachingResourceStore] = weakref.WeakSet()


def forget_cached_clients(client_ids: Iterable[str]) -> None:
    """Drop these clients from every caching client store of this process (another process changed them:
    ``storage.redis.invalidation``)."""
    ids = list(client_ids)
    for store in list(_client_stores):
        for client_id in ids:
            store.forget(client_id)


def clear_cached_configuration() -> None:
    """Empty every caching client and resource store of this process."""
    for client_store in list(_client_stores):
        client_store.clear()
    for resource_store in list(_resource_stores):
        resource_store.clear()
