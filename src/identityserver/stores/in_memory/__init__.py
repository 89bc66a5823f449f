"""In-memory store implementations: the reference implementations and what unit tests use. Each is imported on
first use (PEP 562), so that importing one (the resource server's replay cache) loads none of the others."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from identityserver.stores.in_memory.clients import InMemoryClientStore
    from identityserver.stores.in_memory.data_protection_keys import InMemoryDataProtectionKeyStore
    from identityserver.stores.in_memory.device_flow import InMemoryDeviceFlowStore
    from identityserver.stores.in_memory.persisted_grants import InMemoryPersistedGrantStore
    from identityserver.stores.in_memory.resources import InMemoryResourceStore
    from identityserver.stores.in_memory.server_side_sessions import InMemoryServerSideSessionStore
    from identityserver.stores.in_memory.signing_keys import InMemorySigningKeyStore


_EXPORTS: dict[str, str] = {
    "InMemoryClientStore": "identityserver.stores.in_memory.clients",
    "InMemoryDataProtectionKeyStore": "identityserver.stores.in_memory.data_protection_keys",
    "InMemoryDeviceFlowStore": "identityserver.stores.in_memory.device_flow",
    "InMemoryPersistedGrantStore": "identityserver.stores.in_memory.persisted_grants",
    "InMemoryResourceStore": "identityserver.stores.in_memory.resources",
    "InMemoryServerSideSessionStore": "identityserver.stores.in_memory.server_side_sessions",
    "InMemorySigningKeyStore": "identityserver.stores.in_memory.signing_keys",
}

__all__ = [
    "InMemoryClientStore",
    "InMemoryDataProtectionKeyStore",
    "InMemoryDeviceFlowStore",
    "InMemoryPersistedGrantStore",
    "InMemoryResourceStore",
    "InMemoryServerSideSessionStore",
    "InMemorySigningKeyStore",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
