"""The ``StoreFactory`` of each built-in backend: the in-memory stores and the SQL stores (SQLite, PostgreSQL).

``SqlStoreFactory`` takes a migrated, empty ``Database`` (``identityserver.storage.sqlalchemy.migrate.upgrade``);
giving each test such a database is the fixture's part. A subclass of either is the quickest start for a store
that wraps a built-in one (a caching decorator, say): override the one method that builds your store."""

from __future__ import annotations

from collections.abc import Sequence

from identityserver.clock import Clock, SystemClock
from identityserver.models.client import Client
from identityserver.models.resources import ApiResource, ApiScope, IdentityResource
from identityserver.models.users import TestUser
from identityserver.options import OperationalStoreOptions
from identityserver.storage.sqlalchemy.configuration_import import import_configuration
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.stores import (
    SqlBackChannelLogoutQueue,
    SqlClientStore,
    SqlDataProtectionKeyStore,
    SqlDeviceFlowStore,
    SqlPersistedGrantStore,
    SqlReplayCache,
    SqlResourceStore,
    SqlServerSideSessionStore,
    SqlSigningKeyStore,
    SqlUserStore,
)
from identityserver.storage.sqlalchemy.stores.client_configuration import SqlClientConfigurationStore
from identityserver.storage.sqlalchemy.stores.sign_in_methods import SqlPasskeyStore, SqlTotpStore
from identityserver.storage.sqlalchemy.token_cleanup import SqlTokenCleanupService
from identityserver.stores.in_memory.backchannel_logout_queue import InMemoryBackChannelLogoutQueue
from identityserver.stores.in_memory.clients import InMemoryClientStore
from identityserver.stores.in_memory.data_protection_keys import InMemoryDataProtectionKeyStore
from identityserver.stores.in_memory.device_flow import InMemoryDeviceFlowStore
from identityserver.stores.in_memory.persisted_grants import InMemoryPersistedGrantStore
from identityserver.stores.in_memory.replay_cache import InMemoryReplayCache
from identityserver.stores.in_memory.resources import InMemoryResourceStore
from identityserver.stores.in_memory.server_side_sessions import InMemoryServerSideSessionStore
from identityserver.stores.in_memory.sign_in_methods import InMemoryPasskeyStore, InMemoryTotpStore
from identityserver.stores.in_memory.signing_keys import InMemorySigningKeyStore
from identityserver.stores.in_memory.token_cleanup import InMemoryTokenCleanupService
from identityserver.stores.in_memory.users import TestUserStore
from identityserver.stores.protocols import (
    BackChannelLogoutQueue,
    ClientRegistrationStore,
    ClientStore,
    DataProtectionKeyStore,
    DeviceFlowStore,
    PasskeyStore,
    PersistedGrantStore,
    ReplayCache,
    ResourceStore,
    ServerSideSessionStore,
    SigningKeyStore,
    TotpStore,
    UserStore,
)
from identityserver.testing.factory import StoreFactory, TokenCleanup


class InMemoryStoreFactory(StoreFactory):
    """The in-memory stores; every call makes a new, empty store, except the back-channel logout queue: queues
    of one factory share their deliveries, as SQL queues on one database do."""

    def __init__(self) -> None:
        self._queue: InMemoryBackChannelLogoutQueue | None = None

    async def client_store(self, clients: Sequence[Client]) -> ClientStore:
        return InMemoryClientStore(clients)

    async def client_registration_store(self, clients: Sequence[Client]) -> ClientRegistrationStore:
        return InMemoryClientStore(clients)

    async def resource_store(
        self,
        identity_resources: Sequence[IdentityResource] = (),
        api_scopes: Sequence[ApiScope] = (),
        api_resources: Sequence[ApiResource] = (),
    ) -> ResourceStore:
        return InMemoryResourceStore(identity_resources, api_scopes, api_resources)

    async def persisted_grant_store(self) -> PersistedGrantStore:
        return InMemoryPersistedGrantStore()

    async def device_flow_store(self) -> DeviceFlowStore:
        return InMemoryDeviceFlowStore()

    async def signing_key_store(self) -> SigningKeyStore:
        return InMemorySigningKeyStore()

    async def data_protection_key_store(self) -> DataProtectionKeyStore:
        return InMemoryDataProtectionKeyStore()

    async def server_side_session_store(self) -> ServerSideSessionStore:
        return InMemoryServerSideSessionStore()

    async def replay_cache(self) -> ReplayCache:
        return InMemoryReplayCache()

    async def user_store(self, users: Sequence[TestUser]) -> UserStore:
        return TestUserStore(users)

    async def token_cleanup(self, options: OperationalStoreOptions, clock: Clock) -> TokenCleanup:
        grants, devices = InMemoryPersistedGrantStore(), InMemoryDeviceFlowStore()
        return TokenCleanup(grants, devices, InMemoryTokenCleanupService(grants, devices, options, clock))

    async def backchannel_logout_queue(self) -> BackChannelLogoutQueue:
        if self._queue is None:
            self._queue = InMemoryBackChannelLogoutQueue()
        return self._queue

    async def passkey_store(self) -> PasskeyStore:
        return InMemoryPasskeyStore()

    async def totp_store(self) -> TotpStore:
        return InMemoryTotpStore()


class SqlStoreFactory(StoreFactory):
    """The SQL stores on ``database``; ``clock`` dates imported configuration and runs the replay cache."""

    def __init__(self, database: Database, clock: Clock | None = None) -> None:
        self.database = database
        self.clock: Clock = clock or SystemClock()

    async def client_store(self, clients: Sequence[Client]) -> ClientStore:
        await import_configuration(self.database, self.clock, clients=clients)
        return SqlClientStore(self.database)

    async def client_registration_store(self, clients: Sequence[Client]) -> ClientRegistrationStore:
        await import_configuration(self.database, self.clock, clients=clients)
        return SqlClientConfigurationStore(self.database, self.clock)

    async def resource_store(
        self,
        identity_resources: Sequence[IdentityResource] = (),
        api_scopes: Sequence[ApiScope] = (),
        api_resources: Sequence[ApiResource] = (),
    ) -> ResourceStore:
        await import_configuration(
            self.database,
            self.clock,
            identity_resources=identity_resources,
            api_scopes=api_scopes,
            api_resources=api_resources,
        )
        return SqlResourceStore(self.database)

    async def persisted_grant_store(self) -> PersistedGrantStore:
        return SqlPersistedGrantStore(self.database)

    async def device_flow_store(self) -> DeviceFlowStore:
        return SqlDeviceFlowStore(self.database)

    async def signing_key_store(self) -> SigningKeyStore:
        return SqlSigningKeyStore(self.database)

    async def data_protection_key_store(self) -> DataProtectionKeyStore:
        return SqlDataProtectionKeyStore(self.database)

    async def server_side_session_store(self) -> ServerSideSessionStore:
        return SqlServerSideSessionStore(self.database)

    async def replay_cache(self) -> ReplayCache:
        return SqlReplayCache(self.database, self.clock)

    async def user_store(self, users: Sequence[TestUser]) -> UserStore:
        store = SqlUserStore(self.database)
        await store.save_users(users)
        return store

    async def token_cleanup(self, options: OperationalStoreOptions, clock: Clock) -> TokenCleanup:
        return TokenCleanup(
            SqlPersistedGrantStore(self.database),
            SqlDeviceFlowStore(self.database),
            SqlTokenCleanupService(self.database, options, clock),
        )

    async def backchannel_logout_queue(self) -> BackChannelLogoutQueue:
        return SqlBackChannelLogoutQueue(self.database)

    async def passkey_store(self) -> PasskeyStore:
        return SqlPasskeyStore(self.database)

    async def totp_store(self) -> TotpStore:
        return SqlTotpStore(self.database)
