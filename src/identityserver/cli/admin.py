"""What every admin command shares (``clients``, ``keys``, ``grants``, ``users``): the store options, the
database of ``--config`` / ``--database-url`` (which must be at the current revision: these commands never
migrate or load a configuration into it), the composed ``Services`` where a command needs the configured
services (keys, token revocation), and the mapping of failures to exit codes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from identityserver.cli.output import EXIT_FAILED, EXIT_USAGE, CommandError, Output, fail
from identityserver.clock import Clock, SystemClock
from identityserver.configuration.loader import ConfigError, Configuration

if TYPE_CHECKING:
    from identityserver.hosting.services import Services
    from identityserver.storage.sqlalchemy.engine import Database


def add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML configuration file (its database_url and options)")
    parser.add_argument("--database-url", help="sqlite:///FILE or postgresql://USER@HOST:PORT/DB (wins over --config)")
    parser.add_argument("--state-path", help="state folder of the embedded database (default ./.identityserver)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


@dataclasses.dataclass(slots=True)
class Admin:
    config: Configuration
    database: Database
    output: Output
    clock: Clock = dataclasses.field(default_factory=SystemClock)
    services: Services | None = None

    def require_services(self) -> Services:
        if self.services is None:
            raise CommandError("this command needs the composed services")
        return self.services


def load_config(args: argparse.Namespace) -> Configuration:
    from identityserver.configuration.demo import demo_configuration
    from identityserver.configuration.loader import load_configuration

    config = load_configuration(args.config) if args.config else demo_configuration()
    if args.database_url:
        config.database_url = args.database_url
    return config


def _checked_url(url: str) -> str:
    from identityserver.storage.sqlalchemy.engine import DatabaseUrlError, to_async_url

    try:
        parsed = to_async_url(url)
    except DatabaseUrlError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from exc
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file and file != ":memory:" and not file.startswith("file:") and not Path(file).exists():
        # opening it would leave an empty file behind
        raise CommandError(f"no database at {file}; create it with `identityserver db upgrade`")
    return url


async def _open_database(config: Configuration, state_path: str | None) -> Database:
    from identityserver.configuration.host import database_url_for
    from identityserver.storage.sqlalchemy.engine import Database
    from identityserver.storage.sqlalchemy.schema_check import HEAD_REVISION, current_revision

    database = Database(_checked_url(database_url_for(config, state_path)))
    try:
        revision = await current_revision(database)
    except Exception as exc:
        await database.dispose()
        raise CommandError(f"cannot read the database {database!r}: {exc}") from exc
    if revision != HEAD_REVISION:
        await database.dispose()
        shown = f"at revision {revision}" if revision else "not migrated"
        raise CommandError(
            f"the database is {shown} (this server needs {HEAD_REVISION}); run `identityserver db upgrade`"
        )
    return database


def _without_entries(config: Configuration) -> Configuration:
    """The configuration's options and database only: the admin commands work on what the database holds and
    must not load the file's clients, resources or users into it as a side effect of composing services."""
    return dataclasses.replace(config, clients=[], api_scopes=[], api_resources=[], users=[])


@contextlib.asynccontextmanager
async def open_admin(args: argparse.Namespace, with_services: bool = False) -> AsyncIterator[Admin]:
    from identityserver.configuration.host import command_clock

    config = load_config(args)
    database = await _open_database(config, args.state_path)
    admin = Admin(config, database, Output(args.json))
    try:
        admin.clock = await command_clock(config.options.clock, database)
        if with_services:
            from identityserver.configuration.host import create_builder

            options = config.options
            # a one-shot command starts no background work (token cleanup, session expiry)
            operational = dataclasses.replace(options.operational, enable_token_cleanup=False)
            sessions = dataclasses.replace(options.server_side_sessions, remove_expired_sessions=False)
            config = dataclasses.replace(
                _without_entries(config),
                options=dataclasses.replace(options, operational=operational, server_side_sessions=sessions),
            )
            builder = create_builder(config, args.state_path)
            builder.set_clock(admin.clock)
            admin.services = builder.build()
        yield admin
    finally:
        if admin.services is not None:
            for step in admin.services.shutdown:
                await step()
        await database.dispose()


def run(args: argparse.Namespace, work: Callable[[Admin], Awaitable[int]], with_services: bool = False) -> int:
    """Run ``work`` on the configured stores; failures become a message on stderr and an exit code."""

    async def main() -> int:
        async with open_admin(args, with_services) as admin:
            return await work(admin)

    try:
        return asyncio.run(main())
    except ConfigError as exc:
        return fail(f"configuration error: {exc}", EXIT_USAGE)
    except CommandError as exc:
        return fail(str(exc), exc.exit_code)
    except (ValueError, OSError) as exc:
        return fail(str(exc), EXIT_FAILED)


async def announce_client_change(admin: Admin, client_ids: list[str]) -> None:
    """Tell running servers at once through Redis (``redis_url`` of ``--config``) that these clients changed;
    without Redis they see the change when ``options.caching.client_store_expiration`` ends."""
    await announce_change(admin.config, client_ids)


async def announce_change(config: Configuration, client_ids: list[str] | None = None) -> None:
    """Announce changed clients (or, with ``None``, any configuration) on the configuration's Redis, if any; a
    failure is a warning, since the change itself is committed."""
    if not config.redis_url:
        return
    import sys

    from identityserver.storage.redis.invalidation import Invalidation, RedisConfigurationInvalidation

    channel = RedisConfigurationInvalidation.from_url(config.redis_url)
    try:
        await channel.publish(Invalidation("all") if client_ids is None else Invalidation("client", tuple(client_ids)))
    except Exception as exc:
        print(
            f"identityserver: warning: could not announce the change through Redis ({exc}); running servers "
            f"see it within {config.options.caching.client_store_expiration} s",
            file=sys.stderr,
        )
    finally:
        await channel.close()


def confirm(question: str) -> bool:
    """Ask on a terminal; never when stdin is not one (scripts pass ``--yes``)."""
    import sys

    if not sys.stdin.isatty():
        return False
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def parse_args_list(values: list[str] | None) -> list[str]:
    """Repeatable options also accept comma- or space-separated lists (``--scope "openid profile"``)."""
    result: list[str] = []
    for value in values or []:
        result.extend(v for v in value.replace(",", " ").split() if v)
    return result
