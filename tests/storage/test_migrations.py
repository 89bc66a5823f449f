"""Alembic migrations on SQLite and PostgreSQL: head on an empty database is exactly the entities' metadata and
IdentityServer 6.3's EF schema; downgrade/upgrade round trips; a populated IdentityServer 6.2 database keeps every
row and value; unknown states are refused untouched (security.md §3.5 D1, D2, D6)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from identityserver.storage.sqlalchemy import migrate
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities import IDENTITYSERVER_TABLES, OWN_TABLES, metadata
from identityserver.storage.sqlalchemy.stores import SqlClientStore, SqlPersistedGrantStore
from tests.storage import ef_schema
from tests.storage.conftest import fresh_pg_database, sql_backends
from tests.storage.schema_tools import describe, execute_all, snapshot, table_names


@contextlib.asynccontextmanager
async def empty_database(kind, tmp_path, name="db"):
    if kind == "sqlite":
        database = Database(f"sqlite:///{tmp_path}/{name}.db")
        try:
            yield database
        finally:
            await database.dispose()
        return
    with fresh_pg_database() as url:
        database = Database(url)
        try:
            yield database
        finally:
            await database.dispose()


@pytest.fixture(params=sql_backends())
def kind(request):
    return request.param


async def test_upgrade_head_on_an_empty_database_matches_the_entities(kind, tmp_path):
    async with empty_database(kind, tmp_path) as database:
        before, after = await migrate.upgrade(database)
        assert (before.kind, after.revision) == ("empty", migrate.head_revision())
        async with database.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), metadata)
            )
        assert diff == []


async def test_head_has_the_schema_identityserver_6_3_creates(kind, tmp_path):
    async with empty_database(kind, tmp_path, "ours") as ours, empty_database(kind, tmp_path, "ef") as ef:
        await migrate.upgrade(ours)
        await execute_all(ef, ef_schema.ddl(database_dialect(kind), "6.3"))
        tables = set(IDENTITYSERVER_TABLES)
        assert await describe(ours, tables) == await describe(ef, tables)


async def test_revision_2_is_what_efs_own_6_3_upgrade_migration_does(kind, tmp_path):
    async with empty_database(kind, tmp_path, "ours") as ours, empty_database(kind, tmp_path, "ef") as ef:
        await migrate.upgrade(ours, "0002")
        await execute_all(
            ef, ef_schema.ddl(database_dialect(kind), "6.2") + ef_schema.upgrade_6_3_ddl(database_dialect(kind))
        )
        tables = set(IDENTITYSERVER_TABLES)
        assert await describe(ours, tables) == await describe(ef, tables)


async def test_downgrade_and_upgrade_round_trip(kind, tmp_path):
    async with empty_database(kind, tmp_path) as database:
        await migrate.upgrade(database)
        head = await describe(database)
        assert await migrate.downgrade(database, "0002") == "0002"
        assert not (set(OWN_TABLES) & await table_names(database))
        assert await migrate.downgrade(database, "0001") == "0001"
        clients = (await describe(database, {"Clients"}))["Clients"]["columns"]
        assert "RequireDPoP" not in clients and "InitiateLoginUri" not in clients
        assert await migrate.downgrade(database, "base") is None
        assert await table_names(database) <= {"alembic_version"}
        await migrate.upgrade(database)
        assert await describe(database) == head


def database_dialect(kind: str) -> str:
    return "sqlite" if kind == "sqlite" else "postgresql"


# -- a populated IdentityServer 6.2 database --------------------------------------------------------------------

ENUM_COLUMNS = {"RefreshTokenUsage", "RefreshTokenExpiration", "AccessTokenType"}
MOMENT = datetime(2023, 4, 10, 17, 3, 53, 123456, tzinfo=UTC)


def edge_value(kind: str, column: ef_schema.Column, row: int, dialect: str):
    """Row 0: the largest values (maximum lengths, unicode incl. 4-byte); row 1: NULLs where allowed."""
    if row == 1 and column.nullable:
        return None
    base = column.type
    if base in ("id", "lid"):
        return None
    if base == "bool":
        value = row == 0
        return int(value) if dialect == "sqlite" else value
    if base == "int":
        if column.name in ENUM_COLUMNS:
            return 1 - row
        return 2_147_483_647 if row == 0 else -1
    if base == "dt":
        moment = MOMENT - timedelta(days=400 * row)
        if dialect == "sqlite":
            from identityserver.storage.sqlalchemy.entities.types import format_ef_datetime

            return format_ef_datetime(moment)
        return moment
    if base == "max":
        return ("Ünïcödé 😀 " * 1000) if row == 0 else ""
    length = int(base[1:])
    prefix = f"{row}{kind}"
    return (prefix + "é😀" * length)[:length]


async def populate_6_2(database: Database, dialect: str) -> None:
    columns = ef_schema.table_columns("6.2")
    async with database.engine.begin() as conn:
        for name, _, fks, _ in ef_schema.TABLES:
            fk_columns = {c for c, _ in fks}
            for row in (0, 1):
                values = {}
                for column in columns[name]:
                    if column.type in ("id", "lid"):
                        continue
                    if column.name in fk_columns:
                        values[column.name] = row + 1
                    else:
                        values[column.name] = edge_value(name + column.name, column, row, dialect)
                if name == "PersistedGrants":
                    values["Key"] = ["legacy-base64+/key=", "A1B2C3-1"][row]
                    values["Expiration"] = edge_value("e", ef_schema.Column("Expiration", "dt", False), 1, dialect)
                    values["ConsumedTime"] = values["Expiration"] if row == 0 else None
                names = ", ".join(f'"{c}"' for c in values)
                params = ", ".join(f":p{i}" for i in range(len(values)))
                await conn.execute(
                    text(f'INSERT INTO "{name}" ({names}) VALUES ({params})'),
                    {f"p{i}": v for i, v in enumerate(values.values())},
                )


async def test_a_populated_6_2_database_keeps_every_row_and_value(kind, tmp_path):
    dialect = database_dialect(kind)
    async with empty_database(kind, tmp_path) as database:
        await execute_all(database, ef_schema.ddl(dialect, "6.2"))
        await populate_6_2(database, dialect)
        before = await snapshot(database, list(IDENTITYSERVER_TABLES))
        assert all(len(rows) == 2 for rows in before.values())

        state_before, state_after = await migrate.upgrade(database)
        assert state_before.kind == "identityserver-6.2" and state_after.revision == migrate.head_revision()
        after = await snapshot(database, list(IDENTITYSERVER_TABLES))
        new_columns = {"RequireDPoP", "DPoPValidationMode", "DPoPClockSkew", "InitiateLoginUri"}
        for table, rows in before.items():
            kept = [{k: v for k, v in r.items() if k not in new_columns} for r in after[table]]
            assert kept == rows, table
        for client in after["Clients"]:
            assert not client["RequireDPoP"] and client["DPoPValidationMode"] == 0
            assert client["DPoPClockSkew"] in ("00:00:00", timedelta(0)) and client["InitiateLoginUri"] is None

        again_before, again_after = await migrate.upgrade(database)
        assert again_before.revision == again_after.revision == migrate.head_revision()
        assert await snapshot(database, list(IDENTITYSERVER_TABLES)) == after

        # the stores read what IdentityServer wrote
        full = await SqlClientStore(database).find_client_by_id(before["Clients"][0]["ClientId"])
        assert full is not None and full.enabled and len(full.client_name or "") == 200
        assert full.require_dpop is False and int(full.dpop_validation_mode) == 0 and full.dpop_clock_skew == 0
        grant = await SqlPersistedGrantStore(database).get("legacy-base64+/key=")
        assert grant is not None and grant.consumed_time is not None and grant.expiration < MOMENT


async def test_a_6_3_database_made_by_ef_is_recorded_as_revision_2(kind, tmp_path):
    dialect = database_dialect(kind)
    async with empty_database(kind, tmp_path) as database:
        await execute_all(database, ef_schema.ddl(dialect, "6.2") + ef_schema.upgrade_6_3_ddl(dialect))
        before, after = await migrate.upgrade(database)
        assert (before.kind, before.revision, after.revision) == ("identityserver-6.3", "0002", migrate.head_revision())


@pytest.mark.parametrize(
    "damage",
    [
        'DROP TABLE "ClientScopes"',
        'ALTER TABLE "Clients" ADD "Extra" INTEGER NULL',
        'ALTER TABLE "Clients" ADD "RequireDPoP" INTEGER NULL',
        'CREATE TABLE "IdentityServerReplayCache" ("Key" TEXT)',
    ],
)
async def test_a_database_in_an_unknown_state_is_refused_and_left_untouched(kind, tmp_path, damage):
    dialect = database_dialect(kind)
    async with empty_database(kind, tmp_path) as database:
        await execute_all(database, [*ef_schema.ddl(dialect, "6.2"), damage])
        schema = await describe(database)
        with pytest.raises(migrate.DatabaseStateError) as refused:
            await migrate.upgrade(database)
        assert "Nothing was changed" in str(refused.value)
        assert await describe(database) == schema
        assert "alembic_version" not in await table_names(database)
