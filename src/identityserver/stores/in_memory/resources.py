"""In-memory ``ResourceStore`` (Duende ``InMemoryResourcesStore``)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from identityserver.models.resources import ApiResource, ApiScope, IdentityResource, Resources


def _unique(items: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for name in items:
        if name in seen:
            raise ValueError(f"duplicate {what} name {name!r}")
        seen.add(name)


class InMemoryResourceStore:
    cache_seconds: float = math.inf
    """``CachedStore``: the configuration never changes, so derived answers may be memoized."""

    def __init__(
        self,
        identity_resources: Iterable[IdentityResource] = (),
        api_scopes: Iterable[ApiScope] = (),
        api_resources: Iterable[ApiResource] = (),
    ) -> None:
        self._identity = list(identity_resources)
        self._scopes = list(api_scopes)
        self._apis = list(api_resources)
        _unique((r.name for r in self._identity), "identity resource")
        _unique((s.name for s in self._scopes), "API scope")
        _unique((a.name for a in self._apis), "API resource")
        overlap = {r.name for r in self._identity} & {s.name for s in self._scopes}
        if overlap:
            raise ValueError(f"names used both as identity resource and API scope: {sorted(overlap)}")
        self._identity_by_name = {r.name: r for r in self._identity}
        self._scope_by_name = {s.name: s for s in self._scopes}
        self._api_by_name = {a.name: a for a in self._apis}

    async def find_identity_resources_by_scope_name(self, scope_names: Sequence[str]) -> list[IdentityResource]:
        return [self._identity_by_name[n] for n in dict.fromkeys(scope_names) if n in self._identity_by_name]

    async def find_api_scopes_by_name(self, scope_names: Sequence[str]) -> list[ApiScope]:
        return [self._scope_by_name[n] for n in dict.fromkeys(scope_names) if n in self._scope_by_name]

    async def find_api_resources_by_scope_name(self, scope_names: Sequence[str]) -> list[ApiResource]:
        wanted = set(scope_names)
        return [a for a in self._apis if wanted.intersection(a.scopes)]

    async def find_api_resources_by_name(self, names: Sequence[str]) -> list[ApiResource]:
        return [self._api_by_name[n] for n in dict.fromkeys(names) if n in self._api_by_name]

    async def get_all_resources(self) -> Resources:
        return Resources(list(self._identity), list(self._apis), list(self._scopes))
