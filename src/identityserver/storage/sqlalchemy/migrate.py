"""Schema migrations through Alembic's command API (``identityserver db upgrade | current | downgrade``),
recognition of databases created by IdentityServer's own EF migrations (6.2 and 6.3), and start-up checks.

A database is upgraded in one transaction: it ends at the old revision or the new one, never in between."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from identityserver.storage.sqlalchemy.engine import Database, describe
from identityserver.storage.sqlalchemy.entities import IDENTITYSERVER_TABLES, OWN_TABLES, metadata

MIGRATIONS_PATH = Path(__file__).parent / "migrations"
REVISION_6_2 = "0001"
REVISION_6_3 = "0002"
_NEW_IN_6_3 = {"RequireDPoP", "DPoPValidationMode", "DPoPClockSkew", "InitiateLoginUri"}
_IGNORED_TABLES = {"__EFMigrationsHistory", "sqlite_sequence"}

T = TypeVar("T")
StateKind = Literal["empty", "alembic", "identityserver-6.2", "identityserver-6.3", "unknown"]


class DatabaseStateError(RuntimeError):
    """The database is in a state this server will not touch (nothing was changed)."""


@dataclasses.dataclass(slots=True)
class DatabaseState:
    kind: StateKind
    revision: str | None = None
    problems: list[str] = dataclasses.field(default_factory=list)

    def describe(self) -> str:
        if self.kind == "alembic":
            return f"at revision {self.revision}"
        if self.kind == "unknown":
            return "in an unknown state: " + "; ".join(self.problems)
        return {
            "empty": "empty",
            "identityserver-6.2": "created by IdentityServer 6.2 (EF migrations, no alembic_version)",
            "identityserver-6.3": "created by IdentityServer 6.3 (EF migrations, no alembic_version)",
        }[self.kind]


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_PATH))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"the migration scripts in {MIGRATIONS_PATH} have no head revision (a packaging error)")
    return head


def expected_columns(revision: str) -> dict[str, set[str]]:
    """Column names of IdentityServer's tables at 6.2 (revision 0001) or 6.3 (0002)."""
    columns = {name: {c.name for c in metadata.tables[name].columns} for name in IDENTITYSERVER_TABLES}
    if revision == REVISION_6_2:
        columns["Clients"] -= _NEW_IN_6_3
    return columns


def _inspect_state(conn: Connection) -> DatabaseState:
    inspector = inspect(conn)
    tables = set(inspector.get_table_names()) - _IGNORED_TABLES
    if "alembic_version" in tables:
        return DatabaseState("alembic", MigrationContext.configure(conn).get_current_revision())
    ours = (set(IDENTITYSERVER_TABLES) | set(OWN_TABLES)) & tables
    if not ours:
        return DatabaseState("empty")
    problems: list[str] = []
    own = sorted(set(OWN_TABLES) & tables)
    if own:
        problems.append(f"tables of this server exist without an alembic_version table: {', '.join(own)}")
    missing = [t for t in IDENTITYSERVER_TABLES if t not in tables]
    if missing:
        problems.append(f"missing tables: {', '.join(missing)}")
    actual = {t: {c["name"] for c in inspector.get_columns(t)} for t in IDENTITYSERVER_TABLES if t in tables}
    for kind, revision in (("identityserver-6.2", REVISION_6_2), ("identityserver-6.3", REVISION_6_3)):
        if not problems and all(actual[t] == cols for t, cols in expected_columns(revision).items()):
            return DatabaseState(kind, revision)  # type: ignore[arg-type]
    for table, cols in expected_columns(REVISION_6_2).items():
        if table not in actual:
            continue
        allowed = cols | (_NEW_IN_6_3 if table == "Clients" else set())
        if cols - actual[table]:
            problems.append(f"{table} lacks {', '.join(sorted(cols - actual[table]))}")
        if actual[table] - allowed:
            problems.append(f"{table} has unexpected {', '.join(sorted(actual[table] - allowed))}")
        elif table == "Clients" and actual[table] & _NEW_IN_6_3 and _NEW_IN_6_3 - actual[table]:
            problems.append(f"Clients has only some 6.3 columns ({', '.join(sorted(actual[table] & _NEW_IN_6_3))})")
    return DatabaseState("unknown", None, problems or ["the tables do not match IdentityServer 6.2 or 6.3"])


@contextlib.asynccontextmanager
async def _migration_lock(database: Database) -> AsyncIterator[None]:
    """Serialises migrations across processes (several workers starting on a new database)."""
    if database.dialect == "sqlite":
        from identityserver.stores.file_system import file_lock

        path = database.url.database
        if path and path != ":memory:":
            async with file_lock(Path(path + ".migrate.lock")):
                yield
            return
        yield
        return
    async with database.engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(7230523182364519)"))
        await conn.commit()
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(7230523182364519)"))
            await conn.commit()


async def _in_transaction(database: Database, work: Callable[[Connection], T]) -> T:
    async with database.write() as conn:
        return await conn.run_sync(work)


async def inspect_state(database: Database) -> DatabaseState:
    async with database.read() as conn:
        return await conn.run_sync(_inspect_state)


def _alembic(
    conn: Connection, action: Callable[[Config], Any], on_revision: Callable[[str], None] | None = None
) -> None:
    config = alembic_config()
    config.attributes["connection"] = conn
    if on_revision is not None:
        report = on_revision

        def applied(*, step: Any, **_: Any) -> None:
            report(str(step.up_revision_id if step.is_upgrade else step.down_revision_ids))

        config.attributes["on_version_apply"] = applied
    action(config)


async def upgrade(
    database: Database, revision: str = "head", on_revision: Callable[[str], None] | None = None
) -> tuple[DatabaseState, DatabaseState]:
    """Upgrade to ``revision``; a database created by IdentityServer's EF migrations is first recorded as
    revision 0001 (6.2) or 0002 (6.3). Returns the states before and after; ``on_revision`` is called with each
    revision as it is applied. Raises ``DatabaseStateError`` (having changed nothing) for a database in any other
    unknown state."""
    async with _migration_lock(database):
        return await _upgrade_unlocked(database, revision, on_revision)


async def _upgrade_unlocked(
    database: Database, revision: str, on_revision: Callable[[str], None] | None = None
) -> tuple[DatabaseState, DatabaseState]:
    def work(conn: Connection) -> tuple[DatabaseState, DatabaseState]:
        before = _inspect_state(conn)
        if before.kind == "unknown":
            raise DatabaseStateError(
                f"refusing to migrate {describe(database.url)}: the database is {before.describe()}. "
                "Nothing was changed."
            )
        if before.revision is not None and before.kind != "alembic":
            _alembic(conn, lambda c: command.stamp(c, before.revision or ""))
        _alembic(conn, lambda c: command.upgrade(c, revision), on_revision)
        return before, _inspect_state(conn)

    return await _in_transaction(database, work)


async def downgrade(database: Database, revision: str) -> str | None:
    async with _migration_lock(database):

        def work(conn: Connection) -> str | None:
            state = _inspect_state(conn)
            if state.kind != "alembic":
                raise DatabaseStateError(f"cannot downgrade {describe(database.url)}: it is {state.describe()}")
            _alembic(conn, lambda c: command.downgrade(c, revision))
            return MigrationContext.configure(conn).get_current_revision()

        return await _in_transaction(database, work)


async def current_revision(database: Database) -> DatabaseState:
    return await inspect_state(database)


async def ensure_schema(database: Database) -> bool:
    """Start-up check: create the schema on an empty database (returns ``True``); accept one at head; refuse
    anything else with a message that says to run ``identityserver db upgrade``."""
    state = await inspect_state(database)
    if state.kind == "alembic" and state.revision == head_revision():
        return False
    if state.kind == "empty":
        async with _migration_lock(database):
            state = await inspect_state(database)
            if state.kind == "empty":
                await _upgrade_unlocked(database, "head")
                return True
    if state.kind == "alembic" and state.revision == head_revision():
        return False
    raise DatabaseStateError(
        f"the database {describe(database.url)} is {state.describe()}; this server needs revision "
        f"{head_revision()}. Back it up, then run `identityserver db upgrade --database-url URL`."
    )


FOREIGN_PAYLOAD_CHECKS = {
    "persisted grants": 'SELECT COUNT(*) FROM "PersistedGrants" WHERE "Data" LIKE \'%CfDJ8%\'',
    "device codes": 'SELECT COUNT(*) FROM "DeviceCodes" WHERE "Data" LIKE \'%CfDJ8%\'',
    "signing keys": 'SELECT COUNT(*) FROM "Keys" WHERE "Data" LIKE \'CfDJ8%\'',
    "server-side sessions": 'SELECT COUNT(*) FROM "ServerSideSessions" WHERE "Data" LIKE \'CfDJ8%\'',
}


async def foreign_payload_report(database: Database) -> dict[str, int]:
    """Rows whose payload IdentityServer (.NET) protected with ASP.NET Data Protection: they stay in the
    database, are ignored (with a logged warning) by this server, and expire or are cleaned up as usual."""
    result: dict[str, int] = {}
    async with database.read() as conn:
        for what, sql in FOREIGN_PAYLOAD_CHECKS.items():
            count = int((await conn.execute(text(sql))).scalar_one())
            if count:
                result[what] = count
    return result
