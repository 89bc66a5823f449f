"""In-memory ``PersistedGrantStore`` (Duende ``InMemoryPersistedGrantStore``). Single event loop, so each
method is atomic."""

from __future__ import annotations

import copy
from datetime import datetime

from identityserver.models.grants import PersistedGrant, PersistedGrantFilter


class InMemoryPersistedGrantStore:
    def __init__(self) -> None:
        self._grants: dict[str, PersistedGrant] = {}

    async def store(self, grant: PersistedGrant) -> None:
        self._grants[grant.key] = copy.copy(grant)

    async def get(self, key: str) -> PersistedGrant | None:
        grant = self._grants.get(key)
        return copy.copy(grant) if grant else None

    async def get_all(self, grant_filter: PersistedGrantFilter) -> list[PersistedGrant]:
        if grant_filter.is_empty():
            raise ValueError("a persisted grant filter needs at least one criterion")
        return [copy.copy(g) for g in self._grants.values() if grant_filter.matches(g)]

    async def remove(self, key: str) -> None:
        self._grants.pop(key, None)

    async def remove_all(self, grant_filter: PersistedGrantFilter) -> None:
        if grant_filter.is_empty():
            raise ValueError("a persisted grant filter needs at least one criterion")
        for key in [k for k, g in self._grants.items() if grant_filter.matches(g)]:
            del self._grants[key]

    async def take(self, key: str) -> PersistedGrant | None:
        return self._grants.pop(key, None)

    async def consume(self, key: str, consumed_time: datetime) -> PersistedGrant | None:
        grant = self._grants.get(key)
        if grant is None or grant.consumed_time is not None:
            return None
        grant.consumed_time = consumed_time
        return copy.copy(grant)

    async def replace(self, key: str, grant: PersistedGrant, successor: PersistedGrant | None = None) -> bool:
        if self._grants.pop(key, None) is None:
            return False
        self._grants[grant.key] = copy.copy(grant)
        if successor is not None:
            self._grants[successor.key] = copy.copy(successor)
        return True

    def all(self) -> list[PersistedGrant]:
        return [copy.copy(g) for g in self._grants.values()]
