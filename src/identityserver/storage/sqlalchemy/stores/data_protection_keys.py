"""SQL ``DataProtectionKeyStore`` (ASP.NET ``IXmlRepository`` / ``EntityFrameworkCoreXmlRepository``) on this
server's ``IdentityServerDataProtectionKeys`` table, with a cross-process lock for key creation."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import select

from identityserver.models.keys import DataProtectionKey
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.operational import data_protection_keys as t
from identityserver.storage.sqlalchemy.mappers import data_protection_key_from_row, data_protection_key_to_row
from identityserver.storage.sqlalchemy.stores.common import report_unreadable, upsert


class SqlDataProtectionKeyStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def load_keys(self) -> list[DataProtectionKey]:
        async with self.database.read() as conn:
            rows = (await conn.execute(select(t).order_by(t.c.Created))).mappings().all()
        result = []
        for row in rows:
            try:
                result.append(data_protection_key_from_row(row))
            except ValueError as exc:
                report_unreadable("data-protection key", row["Id"], str(exc))
        return result

    async def store_key(self, key: DataProtectionKey) -> None:
        async with self.database.write() as conn:
            await conn.execute(upsert(self.database.dialect, t, data_protection_key_to_row(key), ["Id"]))

    @contextlib.asynccontextmanager
    async def lock(self) -> AsyncIterator[None]:
        """``pg_advisory_xact_lock`` on PostgreSQL, a write transaction on SQLite, until the block ends."""
        async with self.database.exclusive_lock("identityserver:data-protection"):
            yield
