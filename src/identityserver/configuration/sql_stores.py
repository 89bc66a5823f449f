"""Registers the SQL stores on a builder (Duende ``AddConfigurationStore().AddOperationalStore()``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from identityserver.clock import Clock
from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.hosting.health import HealthCheck
from identityserver.services.protocols import CorsPolicyService
from identityserver.storage.sqlalchemy import (
    Database,
    SqlBackChannelLogoutQueue,
    SqlClientConfigurationStore,
    SqlClientStore,
    SqlCorsPolicyService,
    SqlDataProtectionKeyStore,
    SqlDeviceFlowStore,
    SqlPersistedGrantStore,
    SqlReplayCache,
    SqlResourceStore,
    SqlServerSideSessionStore,
    SqlSigningKeyStore,
    SqlTokenCleanupService,
    SqlUserStore,
)
from identityserver.storage.sqlalchemy.health import DatabaseHealthCheck
from identityserver.storage.sqlalchemy.stores.identity_providers import (
    SqlExternalLoginStore,
    SqlIdentityProviderStore,
)
from identityserver.storage.sqlalchemy.stores.sign_in_methods import SqlPasskeyStore, SqlTotpStore
from identityserver.stores.caching import CachingClientStore, CachingResourceStore
from identityserver.stores.identity_providers import ExternalLoginStore, IdentityProviderStore
from identityserver.stores.protocols import (
    BackChannelLogoutQueue,
    ClientConfigurationStore,
    ClientStore,
    DataProtectionKeyStore,
    DeviceFlowStore,
    ListableClientStore,
    PasskeyStore,
    PersistedGrantStore,
    ReplayCache,
    ResourceStore,
    SigningKeyStore,
    TokenCleanupService,
    TotpStore,
    UserStore,
)


def add_sql_stores(
    builder: IdentityServerBuilder,
    database_url: str,
    *,
    prepare: Callable[[Database], Awaitable[None]] | None = None,
    caching: bool = True,
    replay_cache: bool = True,
    users: bool = True,
    server_side_sessions: bool = False,
    backchannel_logout_queue: bool = True,
) -> Database:
    """Register the SQL stores on ``builder`` (Duende ``AddConfigurationStore().AddOperationalStore()``).

    - clients and resources behind ``CachingClientStore`` / ``CachingResourceStore`` (``options.caching``), the
      client list (portal page) and dynamic registration over ``Clients``;
    - persisted grants, signing keys and the data-protection key ring (shared by every process);
    - the replay cache (unless ``replay_cache`` is false, e.g. to use Redis), CORS origins from
      ``ClientCorsOrigins``, and the users imported by ``identityserver config import`` with their passkeys and
      TOTP second factors (docs/sign-in.md);
    - upstream OpenID Connect providers from ``IdentityProviders`` and, with the users, the account links in
      ``IdentityServerExternalLogins`` (docs/federation.md);
    - server-side sessions in ``ServerSideSessions`` when ``server_side_sessions`` (Duende
      ``AddServerSideSessions``; off by default, as there);
    - ``SqlTokenCleanupService``, run as a background job when ``options.operational.enable_token_cleanup``
      (``builder.override(TokenCleanupService, MySubclass)`` changes it).
    - the ``database`` check of ``/health/ready`` (reachable and at the head revision);
    - the durable queue of back-channel logout deliveries in ``IdentityServerBackChannelLogouts`` (unless
      ``backchannel_logout_queue`` is false, e.g. beside a ``BackChannelLogoutService`` of your own).

    The engine is created in each process on first use and disposed on shutdown. ``prepare`` runs once per
    process before the first statement: the host passes the start-up schema check there."""
    database = Database(database_url, prepare=prepare)
    caches = builder.options.caching
    operational = builder.options.operational
    sql_clients = SqlClientStore(database)
    sql_resources = SqlResourceStore(database)
    if caching:
        builder.add_factory(
            ClientStore, lambda r: CachingClientStore(sql_clients, r.get(Clock), caches.client_store_expiration)
        )
        builder.add_factory(
            ResourceStore,
            lambda r: CachingResourceStore(sql_resources, r.get(Clock), caches.resource_store_expiration),
        )
    else:
        builder.add(ClientStore, sql_clients)
        builder.add(ResourceStore, sql_resources)
    builder.add(ListableClientStore, sql_clients)
    builder.add_factory(ClientConfigurationStore, lambda r: SqlClientConfigurationStore(database, r.get(Clock)))
    builder.add(PersistedGrantStore, SqlPersistedGrantStore(database))
    builder.add(DeviceFlowStore, SqlDeviceFlowStore(database))
    builder.add(SigningKeyStore, SqlSigningKeyStore(database))
    builder.add(DataProtectionKeyStore, SqlDataProtectionKeyStore(database))
    if server_side_sessions:
        builder.add_server_side_sessions(SqlServerSideSessionStore(database))
    builder.add_factory(
        CorsPolicyService, lambda r: SqlCorsPolicyService(database, r.get(Clock), caches.client_store_expiration)
    )
    if replay_cache:
        builder.add_factory(ReplayCache, lambda r: SqlReplayCache(database, r.get(Clock)))
    if users:
        builder.add(UserStore, SqlUserStore(database))
        builder.add(ExternalLoginStore, SqlExternalLoginStore(database))
        builder.add(PasskeyStore, SqlPasskeyStore(database))
        builder.add(TotpStore, SqlTotpStore(database))
    builder.add(IdentityProviderStore, SqlIdentityProviderStore(database))
    builder.add_factory(
        TokenCleanupService,
        lambda r: r.cls(TokenCleanupService, SqlTokenCleanupService)(database, operational, r.get(Clock)),
    )
    if backchannel_logout_queue:
        builder.add(BackChannelLogoutQueue, SqlBackChannelLogoutQueue(database))
    builder.add_item(HealthCheck, DatabaseHealthCheck(database))
    builder.on_startup(database.prepare)
    builder.on_shutdown(database.dispose)
    return database
