"""``identityserver db upgrade | current | downgrade``, ``cleanup`` and ``config import``: argument parsing and
wiring only (Duende: ``dotnet ef database update`` and ``TokenCleanupService``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from identityserver.cli.output import EntryProgress, RevisionProgress
from identityserver.configuration.loader import ConfigError, Configuration

T = TypeVar("T")
EXIT_ERROR = 2


def _config(path: str | None) -> Configuration:
    from identityserver.configuration.demo import demo_configuration
    from identityserver.configuration.loader import load_configuration

    return load_configuration(path) if path else demo_configuration()


def _database_url(args: argparse.Namespace, config: Configuration | None = None) -> str:
    from identityserver.configuration.host import database_url_for

    if args.database_url:
        return str(args.database_url)
    return database_url_for(config or _config(getattr(args, "config", None)), getattr(args, "state_path", None))


def _run(args: argparse.Namespace | str, work: Callable[[Any], Awaitable[T]]) -> T:
    from identityserver.storage.sqlalchemy.engine import Database

    url = args if isinstance(args, str) else _database_url(args)

    async def main() -> T:
        database = Database(url)
        try:
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(main())


def _fail(message: str) -> int:
    print(f"identityserver: {message}", file=sys.stderr)
    return EXIT_ERROR


def _db_upgrade(args: argparse.Namespace) -> int:
    from identityserver.storage.sqlalchemy import migrate

    progress = RevisionProgress()

    async def work(database: Any) -> tuple[Any, Any, dict[str, int]]:
        before, after = await migrate.upgrade(database, args.revision, progress.applied)
        return before, after, await migrate.foreign_payload_report(database)

    try:
        before, after, foreign = _run(args, work)
        progress.finish()
    except (ConfigError, migrate.DatabaseStateError, ValueError, OSError) as exc:
        return _fail(str(exc))
    if before.kind.startswith("identityserver-"):
        print(f"identityserver: recognised a database {before.describe()}; recorded it as revision {before.revision}")
    if before.revision == after.revision:
        print(f"identityserver: database already at revision {after.revision}; nothing to do")
    else:
        print(f"identityserver: database upgraded from {before.revision or 'an empty database'} to {after.revision}")
    if foreign:
        counts = ", ".join(f"{n} {what}" for what, n in foreign.items())
        print(
            f"identityserver: warning: rows written by IdentityServer (.NET) that this server cannot read: {counts}. "
            "Their payloads are protected with ASP.NET Data Protection; they stay in the database, are ignored "
            "(with a logged warning) and expire as usual. Clients, resources and secrets are unaffected. "
            "See docs/persistence.md."
        )
    return 0


def _report(level: int, message: str) -> None:
    """One start-up line (``serve`` shows these lines and logs them: warnings as warnings)."""
    import logging

    print(f"identityserver: {'warning: ' if level >= logging.WARNING else ''}{message}")


def _db_prepare(args: argparse.Namespace) -> int:
    """What ``serve`` runs before it starts serving: create or check the database, apply the configuration to
    it (unless ``apply_configuration = false``), print what was done and, last, the database URL."""
    from identityserver.configuration.host import prepare_database
    from identityserver.storage.sqlalchemy.configuration_import import ConfigurationImportError

    try:
        print(prepare_database(_config(args.config), args.state_path, _report))
    except (ConfigError, ConfigurationImportError) as exc:
        return _fail(f"configuration error: {exc}")
    except Exception as exc:  # DatabaseStateError, a bad URL, or the database being unreachable
        return _fail(str(exc))
    return 0


def _db_current(args: argparse.Namespace) -> int:
    from identityserver.storage.sqlalchemy import migrate

    try:
        state = _run(args, migrate.current_revision)
    except (ConfigError, ValueError, OSError) as exc:
        return _fail(str(exc))
    head = migrate.head_revision()
    if state.kind == "alembic":
        print(f"{state.revision or 'base'}{' (head)' if state.revision == head else f' (head is {head})'}")
    else:
        print(f"no revision: the database is {state.describe()}")
    return 0


def _db_downgrade(args: argparse.Namespace) -> int:
    from identityserver.storage.sqlalchemy import migrate

    if args.revision in ("base", "0000") and not args.drop_all_tables:
        return _fail("downgrading to base drops every table and its data; add --drop-all-tables to do that")
    try:
        revision = _run(args, lambda db: migrate.downgrade(db, args.revision))
    except (ConfigError, migrate.DatabaseStateError, ValueError, OSError) as exc:
        return _fail(str(exc))
    print(f"identityserver: database downgraded to {revision or 'base'}")
    return 0


def _cleanup(args: argparse.Namespace) -> int:
    from identityserver.cli.output import reporting_token_cleanup
    from identityserver.configuration.host import command_clock
    from identityserver.storage.sqlalchemy import migrate

    try:
        config = _config(args.config)
    except ConfigError as exc:
        return _fail(f"configuration error: {exc}")

    async def work(database: Any) -> Any:
        state = await migrate.inspect_state(database)
        if state.kind != "alembic" or state.revision != migrate.head_revision():
            raise migrate.DatabaseStateError(f"the database is {state.describe()}; run `identityserver db upgrade`")
        clock = await command_clock(config.options.clock, database)
        service = reporting_token_cleanup(database, config.options.operational, clock)
        await service.cleanup_grants()
        return service.last_result

    try:
        result = _run(args, work)
    except (migrate.DatabaseStateError, ValueError, OSError) as exc:
        return _fail(str(exc))
    print(
        f"identityserver: removed {result.expired_grants} expired grants, {result.consumed_grants} consumed grants, "
        f"{result.device_codes} expired device codes"
    )
    return 0


def _config_import(args: argparse.Namespace) -> int:
    from identityserver.configuration.host import command_clock
    from identityserver.configuration.loader import load_configuration
    from identityserver.storage.sqlalchemy import migrate
    from identityserver.storage.sqlalchemy.configuration_import import import_configuration

    try:
        config = load_configuration(args.file)
    except ConfigError as exc:
        return _fail(f"configuration error: {exc}")
    url = _database_url(args, config)

    progress = EntryProgress("imported")

    async def work(database: Any) -> str:
        await migrate.ensure_schema(database)  # a new database gets the schema; an old one is refused
        result = await import_configuration(
            database,
            await command_clock(config.options.clock, database),
            config.clients,
            config.identity_resources,
            config.api_scopes,
            config.api_resources,
            config.users,
            source=config.source,
            on_written=progress.written,
            identity_providers=config.identity_providers,
        )
        from identityserver.cli.admin import announce_change

        await announce_change(config)  # running servers drop their cached clients and resources (Redis)
        return result.describe()

    try:
        summary = _run(url, work)
        progress.finish()
    except (migrate.DatabaseStateError, ValueError, OSError) as exc:
        return _fail(str(exc))
    print(f"identityserver: imported {summary}")
    return 0


def _database_options(parser: argparse.ArgumentParser, config: bool = True) -> None:
    parser.add_argument("--database-url", help="sqlite:///FILE or postgresql://USER@HOST:PORT/DB")
    if config:
        parser.add_argument("--config", help="TOML configuration file (for its database_url and options)")
    parser.add_argument("--state-path", help="folder of the embedded database (default ./.identityserver)")


def add_database_commands(commands: Any) -> None:
    db = commands.add_parser("db", help="database schema migrations")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser(
        "upgrade", help="migrate to the latest revision (recognises IdentityServer 6.2/6.3 databases)"
    )
    upgrade.add_argument("revision", nargs="?", default="head")
    _database_options(upgrade)
    upgrade.set_defaults(handler=_db_upgrade)
    prepare = db_commands.add_parser("prepare", help="create or check the database as serve does, print its URL")
    prepare.add_argument("--config", help="TOML configuration file (default: the demo configuration)")
    prepare.add_argument("--state-path", help="state folder (default ./.identityserver)")
    prepare.set_defaults(handler=_db_prepare)
    current = db_commands.add_parser("current", help="show the database's revision")
    _database_options(current)
    current.set_defaults(handler=_db_current)
    downgrade = db_commands.add_parser("downgrade", help="migrate down to REVISION (e.g. 0001 = IdentityServer 6.2)")
    downgrade.add_argument("revision")
    downgrade.add_argument("--drop-all-tables", action="store_true", help="allow downgrading to base")
    _database_options(downgrade)
    downgrade.set_defaults(handler=_db_downgrade)

    cleanup = commands.add_parser("cleanup", help="remove expired and consumed grants and device codes once")
    _database_options(cleanup)
    cleanup.set_defaults(handler=_cleanup)

    config = commands.add_parser("config", help="configuration data in the database")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    importer = config_commands.add_parser("import", help="load clients, resources and users from FILE.toml")
    importer.add_argument("file")
    _database_options(importer, config=False)
    importer.set_defaults(handler=_config_import)
