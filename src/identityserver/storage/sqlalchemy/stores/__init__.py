"""The SQL store implementations, one module per store contract (Duende ``EntityFramework.Storage/Stores``)."""

from identityserver.storage.sqlalchemy.stores.backchannel_logout_queue import SqlBackChannelLogoutQueue
from identityserver.storage.sqlalchemy.stores.clients import SqlClientStore
from identityserver.storage.sqlalchemy.stores.cors import SqlCorsPolicyService
from identityserver.storage.sqlalchemy.stores.data_protection_keys import SqlDataProtectionKeyStore
from identityserver.storage.sqlalchemy.stores.device_flow import SqlDeviceFlowStore
from identityserver.storage.sqlalchemy.stores.persisted_grants import SqlPersistedGrantStore
from identityserver.storage.sqlalchemy.stores.replay_cache import SqlReplayCache
from identityserver.storage.sqlalchemy.stores.resources import SqlResourceStore
from identityserver.storage.sqlalchemy.stores.server_side_sessions import SqlServerSideSessionStore
from identityserver.storage.sqlalchemy.stores.signing_keys import SqlSigningKeyStore
from identityserver.storage.sqlalchemy.stores.users import SqlUserStore

__all__ = [
    "SqlBackChannelLogoutQueue",
    "SqlClientStore",
    "SqlCorsPolicyService",
    "SqlDataProtectionKeyStore",
    "SqlDeviceFlowStore",
    "SqlPersistedGrantStore",
    "SqlReplayCache",
    "SqlResourceStore",
    "SqlServerSideSessionStore",
    "SqlSigningKeyStore",
    "SqlUserStore",
]
