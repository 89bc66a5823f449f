"""Registers the SQL stores on a builder (Duende ``AddConfigurationStore().AddOperationalStore()``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.hosting.background import token_cleanup_job
from identityserver.options import OperationalStoreOptions
from identityserver.storage.sqlalchemy import (
    Database,
    SqlClientConfigurationStore,
    SqlClientStore,
    SqlCorsPolicyService,
    SqlDataProtectionKeyStore,
    SqlPersistedGrantStore,
    SqlReplayCache,
    SqlResourceStore,
    SqlServerSideSessionStore,
    SqlSigningKeyStore,
    SqlTokenCleanupService,
    SqlUserStore,
)
from identityserver.stores.caching import CachingClientStore, CachingResourceStore
from identityserver.stores.protocols import ClientStore, ResourceStore, TokenCleanupService


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


def add_token_cleanup(
    builder: IdentityServerBuilder,
    factory: Callable[[], TokenCleanupService],
    options: OperationalStoreOptions | None = None,
) -> bool:
    """Register the periodic cleanup when ``enable_token_cleanup`` is on; returns whether it was registered."""
    options = options or builder.options.operational
    if not options.enable_token_cleanup:
        return False
    builder.add_background_job(token_cleanup_job(factory, options))
    return True
