"""In-memory data-protection key ring store (tests, single process)."""

from __future__ import annotations

import contextlib
import copy

from identityserver.models.keys import DataProtectionKey


class InMemoryDataProtectionKeyStore:
    def __init__(self) -> None:
        self._keys: dict[str, DataProtectionKey] = {}

    async def load_keys(self) -> list[DataProtectionKey]:
        return [copy.copy(k) for k in self._keys.values()]

    async def store_key(self, key: DataProtectionKey) -> None:
        self._keys[key.id] = copy.copy(key)

    def lock(self) -> contextlib.AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()
