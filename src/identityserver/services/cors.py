"""CORS policy for the protocol endpoints used from browsers (Duende ``ICorsPolicyService``)."""

from __future__ import annotations

from collections.abc import Iterable

from identityserver.models.client import Client


class InMemoryCorsPolicyService:
    """Allows the origins listed in any client's ``allowed_cors_origins`` (compared case-insensitively)."""

    def __init__(self, clients: Iterable[Client]) -> None:
        self._origins = {o.lower() for c in clients if c.enabled for o in c.allowed_cors_origins}

    async def is_origin_allowed(self, origin: str) -> bool:
        return origin.lower() in self._origins
