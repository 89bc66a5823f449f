"""SQLAlchemy storage (Duende ``EntityFramework.Storage`` + ``AddConfigurationStore`` / ``AddOperationalStore``):
every store contract on SQLite or PostgreSQL in IdentityServer's own schema. The only package that imports
SQLAlchemy and Alembic."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from identityserver.hosting.background import add_token_cleanup
from identityserver.storage.sqlalchemy.engine import Database, default_database_url, to_async_url
from identityserver.storage.sqlalchemy.stores import (
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
from identityserver.stores.caching import CachingClientStore, CachingResourceStore
from identityserver.stores.protocols import ClientStore, ResourceStore

if TYPE_CHECKING:
    from identityserver.configuration.builder import IdentityServerBuilder


class BuilderClock:
    """The builder's clock, read at call time (so ``set_clock`` after ``add_sql_stores`` still applies)."""

    def __init__(self, builder: IdentityServerBuilder) -> None:
        self.builder = builder

    def utc_now(self) -> datetime:
        return self.builder.clock.utc_now()

    def timestamp(self) -> float:
        return self.builder.clock.timestamp()


def add_sql_stores(
    builder: IdentityServerBuilder,
    database_url: str,
    *,
    prepare: Callable[[Database], Awaitable[None]] | None = None,
    caching: bool = True,
    replay_cache: bool = True,
    users: bool = True,
    server_side_sessions: bool = False,
) -> Database:
    """Register the SQL stores on ``builder`` (Duende ``AddConfigurationStore().AddOperationalStore()``).

    - clients and resources behind ``CachingClientStore`` / ``CachingResourceStore`` (``options.caching``);
    - persisted grants, signing keys and the data-protection key ring (shared by every process);
    - the replay cache (unless ``replay_cache`` is false, e.g. to use Redis), CORS origins from
      ``ClientCorsOrigins``, and the users imported by ``identityserver config import``;
    - server-side sessions in ``ServerSideSessions`` when ``server_side_sessions`` (Duende
      ``AddServerSideSessions``; off by default, as there);
    - token cleanup as a background job when ``options.operational.enable_token_cleanup`` (register a subclass
      of ``SqlTokenCleanupService`` with ``builder.override`` to change it).

    The engine is created in each process on first use and disposed on shutdown. ``prepare`` runs once per
    process before the first statement: the host passes the start-up schema check there."""
    database = Database(database_url, prepare=prepare)
    clock = BuilderClock(builder)
    options = builder.options
    clients: ClientStore = SqlClientStore(database)
    resources: ResourceStore = SqlResourceStore(database)
    if caching:
        clients = CachingClientStore(clients, clock, options.caching.client_store_expiration)
        resources = CachingResourceStore(resources, clock, options.caching.resource_store_expiration)
    builder.add_client_store(clients)
    builder.add_client_configuration_store(SqlClientConfigurationStore(database, clock))
    builder.add_resource_store(resources)
    builder.add_persisted_grant_store(SqlPersistedGrantStore(database))
    builder.add_signing_key_store(SqlSigningKeyStore(database))
    builder.add_data_protection_key_store(SqlDataProtectionKeyStore(database))
    if server_side_sessions:
        builder.add_server_side_sessions(SqlServerSideSessionStore(database))
    builder.add_cors_policy_service(SqlCorsPolicyService(database, clock, options.caching.client_store_expiration))
    if replay_cache:
        builder.add_replay_cache(SqlReplayCache(database, clock))
    if users:
        builder.add_user_store(SqlUserStore(database))
    builder.on_startup(database.prepare)
    builder.on_shutdown(database.dispose)
    add_token_cleanup(
        builder, lambda: builder.cls(SqlTokenCleanupService)(database, options.operational, clock), options.operational
    )
    return database


__all__ = [
    "BuilderClock",
    "Database",
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
    "add_sql_stores",
    "default_database_url",
    "to_async_url",
]
