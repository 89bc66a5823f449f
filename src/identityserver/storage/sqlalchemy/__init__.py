"""SQLAlchemy storage (Duende ``EntityFramework.Storage``; ``configuration.sql_stores`` registers it on a builder):
every store contract on SQLite or PostgreSQL in IdentityServer's own schema. The only package that imports
SQLAlchemy and Alembic."""

from __future__ import annotations

from identityserver.storage.sqlalchemy.engine import Database, default_database_url, to_async_url
from identityserver.storage.sqlalchemy.stores import (
    SqlBackChannelLogoutQueue,
    SqlClientStore,
    SqlCorsPolicyService,
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
from identityserver.storage.sqlalchemy.token_cleanup import SqlTokenCleanupService, TokenCleanupResult

__all__ = [
    "Database",
    "SqlBackChannelLogoutQueue",
    "SqlClientConfigurationStore",
    "SqlClientStore",
    "SqlCorsPolicyService",
    "SqlDataProtectionKeyStore",
    "SqlDeviceFlowStore",
    "SqlPersistedGrantStore",
    "SqlReplayCache",
    "SqlResourceStore",
    "SqlServerSideSessionStore",
    "SqlSigningKeyStore",
    "SqlTokenCleanupService",
    "SqlUserStore",
    "TokenCleanupResult",
    "default_database_url",
    "to_async_url",
]
