"""Default stores: the builder's in-memory configuration, key rings in the state folder (or memory), and the
grant stores over the persisted-grant store."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.configuration.wiring.composition import Composition, default, optional_default
from identityserver.crypto.protection import DataProtector
from identityserver.services.cors import ClientListCorsPolicyService
from identityserver.services.handles import DefaultHandleGenerationService
from identityserver.services.protocols import CorsPolicyService, DataProtectionKeyRing
from identityserver.stores.file_system import FileSystemDataProtectionKeyStore, FileSystemSigningKeyStore
from identityserver.stores.grant_stores import authorization_code_store as authorization_code_grants
from identityserver.stores.grant_stores import reference_token_store as reference_token_grants
from identityserver.stores.grant_stores import refresh_token_store as refresh_token_grants
from identityserver.stores.in_memory.clients import InMemoryClientStore
from identityserver.stores.in_memory.data_protection_keys import InMemoryDataProtectionKeyStore
from identityserver.stores.in_memory.device_flow import InMemoryDeviceFlowStore
from identityserver.stores.in_memory.persisted_grants import InMemoryPersistedGrantStore
from identityserver.stores.in_memory.replay_cache import InMemoryReplayCache
from identityserver.stores.in_memory.resources import InMemoryResourceStore
from identityserver.stores.in_memory.server_side_sessions import InMemoryServerSideSessionStore
from identityserver.stores.in_memory.signing_keys import InMemorySigningKeyStore
from identityserver.stores.in_memory.token_cleanup import InMemoryTokenCleanupService
from identityserver.stores.in_memory.users import TestUserStore
from identityserver.stores.protocols import (
    AuthorizationCodeStore,
    ClientConfigurationStore,
    ClientStore,
    DataProtectionKeyStore,
    DeviceFlowStore,
    HandleGenerationService,
    ListableClientStore,
    PersistedGrantStore,
    ReferenceTokenStore,
    RefreshTokenStore,
    ReplayCache,
    ResourceStore,
    ServerSideSessionStore,
    SigningKeyStore,
    TokenCleanupService,
    UserStore,
)

PERSISTED_GRANT_PURPOSE = "PersistentGrantSerializer"


@default(Clock)
def clock(c: Composition) -> Clock:
    return c.builder.clock


@default(ClientStore)
def client_store(c: Composition) -> ClientStore:
    return c.get(InMemoryClientStore)


@default(InMemoryClientStore)
def in_memory_clients(c: Composition) -> InMemoryClientStore:
    return InMemoryClientStore(c.builder.clients)


@optional_default(ListableClientStore)
def listable_clients(c: Composition) -> ListableClientStore | None:
    clients = c.undecorated(ClientStore)  # a decorator (auditing, caching) need not list
    return clients if isinstance(clients, ListableClientStore) else None


@optional_default(ClientConfigurationStore)
def client_configuration(c: Composition) -> ClientConfigurationStore | None:
    """The client store itself when it can add clients (the in-memory one), else none."""
    clients = c.undecorated(ClientStore)
    return clients if isinstance(clients, ClientConfigurationStore) else None


@default(CorsPolicyService)
def cors_policy(c: Composition) -> CorsPolicyService:
    listed = c.optional(ListableClientStore)
    if listed is None:
        c.warnings.append(
            "CORS: the client store cannot list clients, so no browser origin is allowed; register a "
            "CorsPolicyService or a ListableClientStore"
        )
    return c.cls(CorsPolicyService, ClientListCorsPolicyService)(
        listed,
        c.get(Clock),
        c.options.caching.client_store_expiration,
    )


@default(ResourceStore)
def resource_store(c: Composition) -> ResourceStore:
    b = c.builder
    return InMemoryResourceStore(b.identity_resources, b.api_scopes, b.api_resources)


@default(PersistedGrantStore)
def persisted_grant_store(c: Composition) -> PersistedGrantStore:
    return c.get(InMemoryPersistedGrantStore)


@default(InMemoryPersistedGrantStore)
def in_memory_grants(c: Composition) -> InMemoryPersistedGrantStore:
    return InMemoryPersistedGrantStore()


@optional_default(TokenCleanupService)
def token_cleanup(c: Composition) -> TokenCleanupService | None:
    """Over the default in-memory grant store; a registered persisted-grant store brings its own cleanup
    (``add_sql_stores`` registers the SQL one)."""
    if c.has_registration(PersistedGrantStore):
        return None
    return c.cls(TokenCleanupService, InMemoryTokenCleanupService)(
        c.get(InMemoryPersistedGrantStore),
        None if c.has_registration(DeviceFlowStore) else c.get(InMemoryDeviceFlowStore),
        c.options.operational,
        c.get(Clock),
    )


@default(SigningKeyStore)
def signing_key_store(c: Composition) -> SigningKeyStore:
    folder = c.builder.state_dir(c.options.key_management.key_path, "keys")
    return FileSystemSigningKeyStore(folder) if folder else InMemorySigningKeyStore()


@default(DataProtectionKeyStore)
def data_protection_key_store(c: Composition) -> DataProtectionKeyStore:
    folder = c.builder.state_dir(c.options.data_protection.key_ring_path, "data-protection")
    return FileSystemDataProtectionKeyStore(folder) if folder else InMemoryDataProtectionKeyStore()


@default(ReplayCache)
def replay_cache(c: Composition) -> ReplayCache:
    return InMemoryReplayCache()


@optional_default(ServerSideSessionStore)
def server_side_sessions(c: Composition) -> ServerSideSessionStore | None:
    enabled = c.builder.server_side_sessions_enabled or c.options.server_side_sessions.enabled
    return InMemoryServerSideSessionStore() if enabled else None


@optional_default(UserStore)
def user_store(c: Composition) -> UserStore | None:
    users = c.builder.users
    return TestUserStore(users) if users is not None else None


@default(HandleGenerationService)
def handles(c: Composition) -> HandleGenerationService:
    return DefaultHandleGenerationService(c.get(Clock), c.options.persisted_grants.time_ordered_handles)


def _grant_protector(c: Composition) -> DataProtector | None:
    if not c.options.persisted_grants.data_protect_data:
        return None
    return c.get(DataProtectionKeyRing).create_protector(PERSISTED_GRANT_PURPOSE)


@default(AuthorizationCodeStore)
def authorization_code_store(c: Composition) -> AuthorizationCodeStore:
    return authorization_code_grants(
        c.get(PersistedGrantStore), c.get(HandleGenerationService), _grant_protector(c), c.get(Clock)
    )


@default(RefreshTokenStore)
def refresh_token_store(c: Composition) -> RefreshTokenStore:
    return refresh_token_grants(
        c.get(PersistedGrantStore), c.get(HandleGenerationService), _grant_protector(c), c.get(Clock)
    )


@default(ReferenceTokenStore)
def reference_token_store(c: Composition) -> ReferenceTokenStore:
    return reference_token_grants(
        c.get(PersistedGrantStore), c.get(HandleGenerationService), _grant_protector(c), c.get(Clock)
    )
