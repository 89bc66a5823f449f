"""From a ``Configuration`` (file or demo) to a builder: the wiring the command-line host uses.

``serve`` keeps everything in a database: the configuration's ``database_url``, else the embedded SQLite file
``<state>/identityserver.db``. A new (empty) database is migrated at start-up; any other database must already be
at the current revision (``identityserver db upgrade``). The configuration's clients, resources and users are
applied to the database at every start (upsert by id, once per start, before the workers run) unless
``apply_configuration = false``."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from identityserver.clock import Clock, DeferredClock, SynchronizedClock, SystemClock
from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.configuration.errors import ConfigError
from identityserver.configuration.loader import Configuration
from identityserver.constants import GrantType
from identityserver.stores.protocols import DataProtectionKeyStore, SigningKeyStore

if TYPE_CHECKING:
    from identityserver.options import ClockOptions
    from identityserver.storage.sqlalchemy.configuration_import import ImportResult
    from identityserver.storage.sqlalchemy.engine import Database

Report = Callable[[int, str], None]
"""Receives what preparing the database did, as a ``logging`` level and a message for the start-up output."""

DEFAULT_STATE_PATH = ".identityserver"

logger = logging.getLogger("identityserver")


def state_folder(config: Configuration, state_path: str | Path | None = None) -> Path:
    return Path(state_path or config.state_path or DEFAULT_STATE_PATH)


def database_url_for(config: Configuration, state_path: str | Path | None = None) -> str:
    """The configuration's ``database_url``, else the embedded SQLite database under the state folder."""
    from identityserver.storage.sqlalchemy.engine import default_database_url

    return config.database_url or default_database_url(state_folder(config, state_path))


def check_extras(config: Configuration) -> None:
    """Raise ``MissingExtraError`` (naming the extra to install) when the configuration needs a driver that is
    not installed: asyncpg for a PostgreSQL ``database_url``, redis for a ``redis_url``."""
    from identityserver._utils.extras import require_extra

    if config.database_url is not None and config.database_url.split(":", 1)[0].partition("+")[0] in (
        "postgresql",
        "postgres",
    ):
        require_extra("asyncpg")
    if config.redis_url:
        require_extra("redis")
    if config.options.telemetry.enabled:
        require_extra("opentelemetry.sdk")
        if config.options.telemetry.prometheus:
            require_extra("prometheus_client")


def has_entries(config: Configuration) -> bool:
    return bool(
        config.clients or config.api_scopes or config.api_resources or config.users or config.identity_providers
    )


def file_entries(config: Configuration) -> ImportResult:
    """How many entries of each kind the configuration declares (the built-in identity resources aside)."""
    from identityserver.storage.sqlalchemy.configuration_import import ImportResult

    return ImportResult(
        clients=len(config.clients),
        api_scopes=len(config.api_scopes),
        api_resources=len(config.api_resources),
        users=len(config.users),
        identity_providers=len(config.identity_providers),
    )


async def apply_configuration(database: Database, config: Configuration, clock: Clock) -> ImportResult:
    """Upsert the configuration's entries by id in one transaction under a cross-process lock (concurrent
    starts serialize; a failing entry raises ``ConfigurationImportError`` and nothing is written)."""
    from identityserver.storage.sqlalchemy.configuration_import import import_configuration

    return await import_configuration(
        database,
        clock,
        config.clients,
        config.identity_resources,
        config.api_scopes,
        config.api_resources,
        config.users,
        source=config.source,
        identity_providers=config.identity_providers,
    )


def _log(level: int, message: str) -> None:
    logger.log(level, message)


TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
SERVED_GRANT_TYPES = frozenset([*(value for name, value in vars(GrantType).items() if name.isupper()), TOKEN_EXCHANGE])
"""The grant types a client of the command-line host may list: it registers no extension grants (they are
code), so any other name is a mistake that would only show as ``unsupported_grant_type`` at run time."""


def check_grant_types(config: Configuration) -> None:
    """Raise ``ConfigError`` naming the file, the client and the field for a grant type ``serve`` does not know."""
    for i, client in enumerate(config.clients):
        for grant in client.allowed_grant_types:
            if grant not in SERVED_GRANT_TYPES:
                raise ConfigError(
                    f'{config.source}: clients[{i}] (client_id "{client.client_id}"): field "allowed_grant_types": '
                    f"unknown grant type {grant!r} (extension grants need code: see docs/extending.md)"
                )


async def _copy_state_folder_keys(database: Database, state: Path) -> None:
    """Carry signing keys and the key ring of an earlier database-less run over into a new database."""
    from identityserver.storage.sqlalchemy.stores import SqlDataProtectionKeyStore, SqlSigningKeyStore
    from identityserver.stores.file_system import FileSystemDataProtectionKeyStore, FileSystemSigningKeyStore

    ring = SqlDataProtectionKeyStore(database)
    for dp_key in await FileSystemDataProtectionKeyStore(state / "data-protection").load_keys():
        await ring.store_key(dp_key)
    keys = SqlSigningKeyStore(database)
    for key in await FileSystemSigningKeyStore(state / "keys").load_keys():
        await keys.store_key(key)


def database_preparer(
    config: Configuration, state: Path, clock: Clock, reimport: bool = False, report: Report = _log
) -> Callable[[Database], Awaitable[None]]:
    """The start-up step for a database: migrate it and apply the configuration when it is new (or, with
    ``reimport``, always) unless ``apply_configuration`` is off, which is reported instead; refuse
    (``DatabaseStateError``) a database at another revision."""

    async def prepare(database: Database) -> None:
        from identityserver.storage.sqlalchemy.schema_check import is_at_head

        created = False
        if not await is_at_head(database):  # at head (the common case) needs neither Alembic nor a migration
            from identityserver.storage.sqlalchemy.migrate import ensure_schema

            created = await ensure_schema(database)
        if created:
            await _copy_state_folder_keys(database, state)
        if not (created or reimport) or not has_entries(config):
            return
        if config.apply_configuration:
            applied = await apply_configuration(database, config, clock)
            report(logging.INFO, f"applied {applied.describe()} from {config.source}")
        else:
            report(
                logging.WARNING,
                f"{config.source} has {file_entries(config).describe()} that were not applied: "
                "apply_configuration = false",
            )

    return prepare


def prepare_database(config: Configuration, state_path: str | Path | None = None, report: Report = _log) -> str:
    """Run once by ``serve`` before the workers start: create or check the database and apply the
    configuration to it (every start, whatever the database), reporting what it did."""
    from identityserver.storage.sqlalchemy.engine import Database

    check_grant_types(config)
    state = state_folder(config, state_path)
    url = database_url_for(config, state)
    clock: list[Clock] = [SystemClock()]
    prepare = database_preparer(config, state, DeferredClock(lambda: clock[0]), reimport=True, report=report)

    async def run() -> None:
        database = Database(url, prepare=prepare)
        try:
            clock[0] = await command_clock(config.options.clock, database)
            await database.prepare()
        finally:
            await database.dispose()

    asyncio.run(run())
    return url


def synchronized_clock(options: ClockOptions, database: Database) -> SynchronizedClock:
    """A clock held to the PostgreSQL server's (``[options.clock]``; docs/scaling.md, "Clocks")."""
    from identityserver.storage.sqlalchemy.server_time import database_server_time

    interval = options.synchronization_interval
    return SynchronizedClock(lambda: database_server_time(database), options.tolerance, interval)


def add_synchronized_clock(builder: IdentityServerBuilder, database: Database) -> None:
    """Hold this process's clock to the PostgreSQL server's; the host synchronizes it before anything else."""
    builder.set_clock(synchronized_clock(builder.options.clock, database))


async def command_clock(options: ClockOptions, database: Database) -> Clock:
    """The clock of a one-shot command (``keys``, ``clients``, ``cleanup``, ``config import``, and ``serve``'s
    preparation of the database) on ``database``: the servers' own, so that a command run on a host whose clock is
    off neither dates keys, secrets and clients by it nor removes grants that are still live."""
    if database.dialect != "postgresql" or not options.follow_database:
        return SystemClock()
    clock = synchronized_clock(options, database)
    await clock.try_synchronize()
    return clock


def add_redis_replay_cache(builder: IdentityServerBuilder, url: str) -> None:
    """Share DPoP and client-assertion replay protection through Redis (``SET NX EX``)."""
    from identityserver.hosting.health import HealthCheck
    from identityserver.storage.redis.health import RedisHealthCheck
    from identityserver.storage.redis.replay_cache import RedisReplayCache

    cache = RedisReplayCache.from_url(url)
    builder.add_replay_cache(cache)
    builder.add_item(HealthCheck, RedisHealthCheck(cache.client))
    builder.on_shutdown(cache.close)


def add_identity_providers(builder: IdentityServerBuilder, config: Configuration) -> None:
    """The file's ``[[identity_providers]]`` when the server runs without a database."""
    if config.identity_providers:
        from identityserver.stores.identity_providers import IdentityProviderStore, InMemoryIdentityProviderStore

        builder.add(IdentityProviderStore, InMemoryIdentityProviderStore(config.identity_providers))


def create_builder(
    config: Configuration,
    state_path: str | Path | None = None,
    issuer_uri: str | None = None,
    use_database: bool = True,
) -> IdentityServerBuilder:
    """A builder for the configuration: SQL stores on its database (``use_database``), or the configuration's
    clients, resources and users in memory with keys in the state folder."""
    options = config.options
    if issuer_uri and not options.issuer_uri:
        options = dataclasses.replace(options, issuer_uri=issuer_uri.rstrip("/"))
    state = state_folder(config, state_path)
    builder = IdentityServerBuilder(options, state_path=state)
    if use_database:
        from identityserver.configuration.sql_stores import add_sql_stores

        # the clock of the configuration's timestamps is chosen below, once the database exists
        prepare = database_preparer(config, state, DeferredClock(lambda: builder.clock))
        database = add_sql_stores(
            builder,
            database_url_for(config, state),
            prepare=prepare,
            server_side_sessions=options.server_side_sessions.enabled,
            replay_cache=config.redis_url is None,
        )
        if database.dialect == "postgresql" and options.clock.follow_database:
            add_synchronized_clock(builder, database)
        if config.redis_url:
            from identityserver.configuration.redis_invalidation import add_redis_invalidation

            add_redis_replay_cache(builder, config.redis_url)
            add_redis_invalidation(builder, config.redis_url)
        if options.data_protection.key_ring_path:
            builder.remove(DataProtectionKeyStore)  # an explicit folder wins over the database
        if options.key_management.key_path:
            builder.remove(SigningKeyStore)
        return builder
    builder.add_in_memory_clients(config.clients)
    builder.add_in_memory_identity_resources(config.identity_resources)
    builder.add_in_memory_api_scopes(config.api_scopes)
    builder.add_in_memory_api_resources(config.api_resources)
    if config.users:
        builder.add_test_users(config.users)
    add_identity_providers(builder, config)
    return builder
