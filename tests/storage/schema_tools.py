"""Helpers for the migration tests: run raw DDL, describe a schema, snapshot every row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from identityserver.storage.sqlalchemy.engine import Database

SKIPPED_TABLES = {"alembic_version", "__EFMigrationsHistory", "sqlite_sequence"}


async def execute_all(database: Database, statements: list[str]) -> None:
    async with database.engine.begin() as conn:
        for statement in statements:
            await conn.exec_driver_sql(statement)


def _describe(conn: Connection, tables: set[str] | None) -> dict[str, Any]:
    inspector = inspect(conn)
    result: dict[str, Any] = {}
    for table in inspector.get_table_names():
        if table in SKIPPED_TABLES or (tables is not None and table not in tables):
            continue
        columns = {
            c["name"]: (c["type"].compile(dialect=conn.dialect).lower(), c["nullable"])
            for c in inspector.get_columns(table)
        }
        indexes = {i["name"]: (tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)}
        fks = {
            (tuple(f["constrained_columns"]), f["referred_table"], (f.get("options") or {}).get("ondelete"))
            for f in inspector.get_foreign_keys(table)
        }
        pk = tuple(inspector.get_pk_constraint(table)["constrained_columns"])
        result[table] = {"columns": columns, "indexes": indexes, "fks": fks, "pk": pk}
    return result


async def describe(database: Database, tables: set[str] | None = None) -> dict[str, Any]:
    async with database.engine.connect() as conn:
        return await conn.run_sync(lambda c: _describe(c, tables))


async def snapshot(database: Database, tables: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in primary-key order, as plain values."""
    rows: dict[str, list[dict[str, Any]]] = {}
    async with database.engine.connect() as conn:
        for table in tables:
            result = await conn.execute(text(f'SELECT * FROM "{table}" ORDER BY 1'))
            rows[table] = [dict(r) for r in result.mappings().all()]
    return rows


async def table_names(database: Database) -> set[str]:
    async with database.engine.connect() as conn:
        return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
