"""In-memory store implementations: the reference implementations and what unit tests use."""

from identityserver.stores.in_memory.clients import InMemoryClientStore
from identityserver.stores.in_memory.data_protection_keys import InMemoryDataProtectionKeyStore
from identityserver.stores.in_memory.device_flow import InMemoryDeviceFlowStore
from identityserver.stores.in_memory.persisted_grants import InMemoryPersistedGrantStore
from identityserver.stores.in_memory.resources import InMemoryResourceStore
from identityserver.stores.in_memory.server_side_sessions import InMemoryServerSideSessionStore
from identityserver.stores.in_memory.signing_keys import InMemorySigningKeyStore

__all__ = [
    "InMemoryClientStore",
    "InMemoryDataProtectionKeyStore",
    "InMemoryDeviceFlowStore",
    "InMemoryPersistedGrantStore",
    "InMemoryResourceStore",
    "InMemoryServerSideSessionStore",
    "InMemorySigningKeyStore",
]
