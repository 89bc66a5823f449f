"""SQL ``SigningKeyStore`` (Duende ``EntityFramework.Stores.SigningKeyStore``) on the ``Keys`` table
(``Use = 'signing'``), with a cross-process lock so that starting workers create one key, not one each."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import delete, select

from identityserver.models.keys import SerializedKey
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.operational import keys as t
from identityserver.storage.sqlalchemy.mappers import is_aspnet_protected, signing_key_from_row, signing_key_to_row
from identityserver.storage.sqlalchemy.stores.common import report_unreadable, upsert

SIGNING_USE = "signing"


class SqlSigningKeyStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def load_keys(self) -> list[SerializedKey]:
        async with self.database.read() as conn:
            rows = (await conn.execute(select(t).where(t.c.Use == SIGNING_USE).order_by(t.c.Created))).mappings()
            result = []
            for row in rows.all():
                if is_aspnet_protected(row["Data"]):
                    # IdentityServer (.NET) keys: ASP.NET Data Protection ciphertext (security.md D4/D5)
                    report_unreadable("signing key", row["Id"], "key material protected with ASP.NET Data Protection")
                    continue
                result.append(signing_key_from_row(row))
        return result

    async def store_key(self, key: SerializedKey) -> None:
        values = signing_key_to_row(key)
        values["Use"] = SIGNING_USE
        async with self.database.write() as conn:
            await conn.execute(upsert(self.database.dialect, t, values, ["Id"]))

    async def delete_key(self, key_id: str) -> None:
        async with self.database.write() as conn:
            await conn.execute(delete(t).where(t.c.Id == key_id, t.c.Use == SIGNING_USE))

    @contextlib.asynccontextmanager
    async def lock(self) -> AsyncIterator[None]:
        """Held by the key manager while it decides whether to create a key (every process, one lock)."""
        async with self.database.exclusive_lock("identityserver:signing-keys"):
            yield
