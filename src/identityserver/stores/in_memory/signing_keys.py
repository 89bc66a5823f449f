"""In-memory ``SigningKeyStore`` (tests and embedding)."""

from __future__ import annotations

import contextlib
import copy

from identityserver.models.keys import SerializedKey


class InMemorySigningKeyStore:
    def __init__(self) -> None:
        self._keys: dict[str, SerializedKey] = {}

    async def load_keys(self) -> list[SerializedKey]:
        return [copy.copy(k) for k in self._keys.values()]

    async def store_key(self, key: SerializedKey) -> None:
        self._keys[key.id] = copy.copy(key)

    async def delete_key(self, key_id: str) -> None:
        self._keys.pop(key_id, None)

    def lock(self) -> contextlib.AbstractAsyncContextManager[None]:
        """One process only: the key manager's own lock suffices."""
        return contextlib.nullcontext()
