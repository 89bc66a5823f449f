"""Makes races real in process: the in-memory persisted-grant store never suspends, so requests gathered with
``asyncio.gather`` would otherwise run one after the other. ``InterleavingGrantStore`` yields to the event loop
before and after every operation (``asyncio.sleep(0)``: no time passes), so concurrent requests interleave at
each storage call, as they do against a database."""

from __future__ import annotations

import asyncio
from datetime import datetime

from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.models.grants import PersistedGrant, PersistedGrantFilter
from identityserver.stores.protocols import PersistedGrantStore


async def _switch() -> None:
    await asyncio.sleep(0)


class InterleavingGrantStore:
    def __init__(self, inner: PersistedGrantStore) -> None:
        self.inner = inner

    async def store(self, grant: PersistedGrant) -> None:
        await _switch()
        await self.inner.store(grant)
        await _switch()

    async def get(self, key: str) -> PersistedGrant | None:
        await _switch()
        found = await self.inner.get(key)
        await _switch()
        return found

    async def get_all(self, grant_filter: PersistedGrantFilter) -> list[PersistedGrant]:
        await _switch()
        found = await self.inner.get_all(grant_filter)
        await _switch()
        return found

    async def remove(self, key: str) -> None:
        await _switch()
        await self.inner.remove(key)
        await _switch()

    async def remove_all(self, grant_filter: PersistedGrantFilter) -> None:
        await _switch()
        await self.inner.remove_all(grant_filter)
        await _switch()

    async def take(self, key: str) -> PersistedGrant | None:
        await _switch()
        found = await self.inner.take(key)
        await _switch()
        return found

    async def consume(self, key: str, consumed_time: datetime) -> PersistedGrant | None:
        await _switch()
        found = await self.inner.consume(key, consumed_time)
        await _switch()
        return found

    async def replace(self, key: str, grant: PersistedGrant, successor: PersistedGrant | None = None) -> bool:
        await _switch()
        replaced = await self.inner.replace(key, grant, successor)
        await _switch()
        return replaced


def interleaving(builder: IdentityServerBuilder) -> IdentityServerBuilder:
    """Wrap the builder's persisted-grant store so that concurrent requests interleave."""
    return builder.decorate(PersistedGrantStore, InterleavingGrantStore)
