"""CORS policy for the protocol endpoints used from browsers (Duende ``ICorsPolicyService``)."""

from __future__ import annotations

from collections.abc import Iterable

from identityserver.clock import Clock
from identityserver.models.client import Client
from identityserver.stores.caching import TtlCache
from identityserver.stores.protocols import ListableClientStore


def allowed_origins(clients: Iterable[Client]) -> frozenset[str]:
    return frozenset(o.lower() for c in clients if c.enabled for o in c.allowed_cors_origins)


class ClientListCorsPolicyService:
    """Allows the origins listed in any enabled client's ``allowed_cors_origins`` (case-insensitive), over any
    listable client store; the list is read at most once per ``expiration_seconds``. Without a client list
    (a custom store that cannot list) no origin is allowed, which start-up reports."""

    def __init__(self, clients: ListableClientStore | None, clock: Clock, expiration_seconds: int = 900) -> None:
        self.clients = clients
        self._cache: TtlCache[frozenset[str]] = TtlCache(clock, expiration_seconds, max_entries=1)

    async def is_origin_allowed(self, origin: str) -> bool:
        """Whether an enabled client lists the origin (never without a client list)."""
        listed = self.clients
        if listed is None:
            return False

        async def load() -> frozenset[str]:
            return allowed_origins(await listed.get_all_clients())

        return origin.lower() in await self._cache.get_or_add("origins", load)
