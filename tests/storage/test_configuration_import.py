"""``import_configuration`` (``config import`` and the apply at ``serve`` start-up) on SQLite and PostgreSQL: a
failure at the database level half way rolls everything back and names the entry; concurrent imports from
separate engines serialize and end with exactly the file's entries."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select, text

from identityserver.clock import SystemClock
from identityserver.configuration.loader import Configuration, parse_configuration
from identityserver.crypto.hashing import sha256_base64
from identityserver.storage.sqlalchemy.configuration_import import ConfigurationImportError, import_configuration
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.configuration import client_scopes, client_secrets, clients
from tests.storage.conftest import Backend


def config(*client_ids: str, secret: str = "first") -> Configuration:
    data: dict[str, Any] = {
        "clients": [
            {
                "client_id": client_id,
                "client_secrets": [f"{secret}-{client_id}"],
                "allowed_grant_types": ["client_credentials"],
                "allowed_scopes": ["api1"],
            }
            for client_id in client_ids
        ],
        "api_scopes": [{"name": "api1"}],
    }
    return parse_configuration(data, "c.toml")


async def apply(database: Database, configuration: Configuration) -> str:
    result = await import_configuration(
        database,
        SystemClock(),
        configuration.clients,
        configuration.identity_resources,
        configuration.api_scopes,
        configuration.api_resources,
        configuration.users,
        source=configuration.source,
    )
    return result.describe()


async def rows(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    async with database.read() as conn:
        return {
            table.name: sorted(map(tuple, (await conn.execute(select(table))).all()), key=repr)
            for table in (clients, client_secrets, client_scopes)
        }


@contextlib.asynccontextmanager
async def refusing_client(database: Database, client_id: str) -> AsyncIterator[None]:
    """A trigger that makes the database itself refuse to insert one client (a failure no check sees before)."""
    if database.dialect == "sqlite":
        create = [
            f"""CREATE TRIGGER refuse_client BEFORE INSERT ON "Clients" WHEN NEW."ClientId" = '{client_id}'
            BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"""
        ]
        drop = ["DROP TRIGGER refuse_client"]
    else:
        create = [
            f"""CREATE FUNCTION refuse_client() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
            IF NEW."ClientId" = '{client_id}' THEN RAISE EXCEPTION 'refused by a trigger'; END IF;
            RETURN NEW; END $$""",
            'CREATE TRIGGER refuse_client BEFORE INSERT ON "Clients" FOR EACH ROW EXECUTE FUNCTION refuse_client()',
        ]
        drop = ['DROP TRIGGER refuse_client ON "Clients"', "DROP FUNCTION refuse_client()"]
    async with database.write() as conn:
        for statement in create:
            await conn.execute(text(statement))
    try:
        yield
    finally:
        async with database.write() as conn:
            for statement in drop:
                await conn.execute(text(statement))


async def test_a_failure_at_the_database_half_way_changes_nothing_and_names_the_entry(sql_backend: Backend):
    database = sql_backend.db
    await apply(database, config("a", "b"))
    before = await rows(database)
    async with refusing_client(database, "boom"):
        with pytest.raises(ConfigurationImportError) as raised:
            await apply(database, config("a", "b", "boom", secret="second"))
    message = str(raised.value)
    assert message.startswith('c.toml: clients[2] (client_id "boom"): ')
    assert "refused by a trigger" in message
    assert "second-" not in message and sha256_base64("second-a") not in message
    assert await rows(database) == before  # a and b were replaced inside the transaction, then rolled back


async def test_concurrent_imports_from_separate_engines_end_with_the_files_entries(sql_backend: Backend):
    url = sql_backend.url
    assert url is not None
    await apply(sql_backend.db, config("kept"))
    databases = [Database(url) for _ in range(5)]
    try:
        ids = [f"client-{i}" for i in range(20)]
        results = await asyncio.gather(*(apply(database, config(*ids)) for database in databases))
    finally:
        for database in databases:
            await database.dispose()
    assert results == ["20 clients, 3 identity resources, 1 API scope"] * 5
    async with sql_backend.db.read() as conn:
        stored = sorted((await conn.execute(select(clients.c.ClientId))).scalars())
        per_client = select(func.count()).select_from(client_secrets).group_by(client_secrets.c.ClientId)
        secrets_per_client = (await conn.execute(per_client)).scalars().all()
    assert stored == sorted([*ids, "kept"])
    assert list(secrets_per_client) == [1] * 21
