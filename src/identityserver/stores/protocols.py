"""Store contracts (Duende ``src/Storage/Stores``). Every method is async; implementations live in
``stores/in_memory`` and ``storage/sqlalchemy``, and one contract test suite runs against all of them."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from identityserver.models.client import Client
from identityserver.models.grants import PersistedGrant, PersistedGrantFilter
from identityserver.models.keys import DataProtectionKey, SerializedKey
from identityserver.models.resources import ApiResource, ApiScope, IdentityResource, Resources


class ClientStore(Protocol):
    async def find_client_by_id(self, client_id: str) -> Client | None:
        """Return the client (enabled or not) or ``None``."""
        ...


class ResourceStore(Protocol):
    async def find_identity_resources_by_scope_name(self, scope_names: Sequence[str]) -> list[IdentityResource]: ...

    async def find_api_scopes_by_name(self, scope_names: Sequence[str]) -> list[ApiScope]: ...

    async def find_api_resources_by_scope_name(self, scope_names: Sequence[str]) -> list[ApiResource]: ...

    async def find_api_resources_by_name(self, names: Sequence[str]) -> list[ApiResource]: ...

    async def get_all_resources(self) -> Resources: ...


class PersistedGrantStore(Protocol):
    async def store(self, grant: PersistedGrant) -> None:
        """Insert the grant, or replace the one with the same key."""
        ...

    async def get(self, key: str) -> PersistedGrant | None: ...

    async def get_all(self, grant_filter: PersistedGrantFilter) -> list[PersistedGrant]: ...

    async def remove(self, key: str) -> None: ...

    async def remove_all(self, grant_filter: PersistedGrantFilter) -> None: ...

    async def take(self, key: str) -> PersistedGrant | None:
        """Atomically remove and return the grant: of N concurrent calls for one key exactly one gets it."""
        ...

    async def consume(self, key: str, consumed_time: datetime) -> PersistedGrant | None:
        """Atomically set ``consumed_time`` on an unconsumed grant and return it (``None`` if missing or
        already consumed): of N concurrent calls exactly one succeeds."""
        ...


class SigningKeyStore(Protocol):
    async def load_keys(self) -> list[SerializedKey]: ...

    async def store_key(self, key: SerializedKey) -> None: ...

    async def delete_key(self, key_id: str) -> None: ...


class DataProtectionKeyStore(Protocol):
    """Persists the data-protection key ring (ASP.NET ``IXmlRepository``)."""

    async def load_keys(self) -> list[DataProtectionKey]: ...

    async def store_key(self, key: DataProtectionKey) -> None: ...

    def lock(self) -> AbstractAsyncContextManager[None]:
        """An exclusive lock across processes, held while deciding whether to create a key."""
        ...
