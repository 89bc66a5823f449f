"""From a ``Configuration`` (file or demo) to a builder: the wiring the command-line host uses.

``serve`` keeps everything in a database: the configuration's ``database_url``, else the embedded SQLite file
``<state>/identityserver.db``. A new (empty) database is migrated and loaded with the configuration at start-up;
any other database must already be at the current revision (``identityserver db upgrade``)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from identityserver.clock import Clock, SystemClock
from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.configuration.loader import Configuration
from identityserver.stores.protocols import DataProtectionKeyStore, SigningKeyStore

if TYPE_CHECKING:
    from identityserver.storage.sqlalchemy.engine import Database

DEFAULT_STATE_PATH = ".identityserver"

logger = logging.getLogger("identityserver")


def state_folder(config: Configuration, state_path: str | Path | None = None) -> Path:
    return Path(state_path or config.state_path or DEFAULT_STATE_PATH)


def database_url_for(config: Configuration, state_path: str | Path | None = None) -> str:
    """The configuration's ``database_url``, else the embedded SQLite database under the state folder."""
    from identityserver.storage.sqlalchemy.engine import default_database_url

    return config.database_url or default_database_url(state_folder(config, state_path))


def has_entries(config: Configuration) -> bool:
    return bool(config.clients or config.api_scopes or config.api_resources or config.users)


async def _import(database: Database, config: Configuration, clock: Clock) -> str:
    from identityserver.storage.sqlalchemy.configuration_import import import_configuration

    result = await import_configuration(
        database,
        clock,
        config.clients,
        config.identity_resources,
        config.api_scopes,
        config.api_resources,
        config.users,
    )
    return result.describe()


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
    config: Configuration, state: Path, clock: Clock, reimport: bool = False
) -> Callable[[Database], Awaitable[None]]:
    """The start-up step for a database: migrate it and load the configuration when it is new (or, with
    ``reimport``, always); refuse (``DatabaseStateError``) a database at another revision."""

    async def prepare(database: Database) -> None:
        from identityserver.storage.sqlalchemy.schema_check import is_at_head

        created = False
        if not await is_at_head(database):  # at head (the common case) needs neither Alembic nor a migration
            from identityserver.storage.sqlalchemy.migrate import ensure_schema

            created = await ensure_schema(database)
        if created:
            await _copy_state_folder_keys(database, state)
        if (created or reimport) and has_entries(config):
            logger.info("loaded the configuration into the database: %s", await _import(database, config, clock))

    return prepare


def prepare_database(config: Configuration, state_path: str | Path | None = None) -> str:
    """Run once by ``serve`` before the workers start: create or check the database, and load the configuration
    into a new database, or on every start into the embedded one (whose only source is the file)."""
    from identityserver.storage.sqlalchemy.engine import Database

    state = state_folder(config, state_path)
    url = database_url_for(config, state)
    prepare = database_preparer(config, state, SystemClock(), reimport=config.database_url is None)

    async def run() -> None:
        database = Database(url, prepare=prepare)
        try:
            await database.prepare()
        finally:
            await database.dispose()

    asyncio.run(run())
    return url


def add_redis_replay_cache(builder: IdentityServerBuilder, url: str) -> None:
    """Share DPoP and client-assertion replay protection through Redis (``SET NX EX``)."""
    from identityserver.storage.redis.replay_cache import RedisReplayCache

    cache = RedisReplayCache.from_url(url)
    builder.add_replay_cache(cache)
    builder.on_shutdown(cache.close)


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

        prepare = database_preparer(config, state, builder.clock)
        add_sql_stores(
            builder,
            database_url_for(config, state),
            prepare=prepare,
            server_side_sessions=options.server_side_sessions.enabled,
            replay_cache=config.redis_url is None,
        )
        if config.redis_url:
            add_redis_replay_cache(builder, config.redis_url)
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
    return builder
