"""SigningKeyStore behaviour (``identityserver.testing.contracts.signing_keys``) on every backend, the SQL store's
cross-process lock, and its treatment of IdentityServer (.NET) keys."""

from __future__ import annotations

import asyncio
import logging
import secrets

from sqlalchemy import insert

from identityserver.storage.sqlalchemy.entities import keys as keys_table
from identityserver.storage.sqlalchemy.stores import SqlSigningKeyStore
from identityserver.testing.contracts import SigningKeyStoreContract
from identityserver.testing.contracts.signing_keys import CREATED, key


class TestSigningKeyStore(SigningKeyStoreContract):
    pass


async def test_sql_lock_serialises_processes_and_lets_the_holder_use_the_store(sql_backend):
    store = SqlSigningKeyStore(sql_backend.db)
    order: list[str] = []

    async def create(name: str) -> None:
        async with store.lock():
            order.append(f"{name}-in")
            if not await store.load_keys():
                await store.store_key(key(name))
            await asyncio.sleep(0.05)
            order.append(f"{name}-out")

    other = SqlSigningKeyStore(type(sql_backend.db)(sql_backend.url))  # a second engine, as another process has
    try:

        async def create_other() -> None:
            async with other.lock():
                order.append("y-in")
                if not await other.load_keys():
                    await other.store_key(key("y"))
                order.append("y-out")

        await asyncio.gather(create("x"), create_other())
    finally:
        await other.database.dispose()
    assert len(await store.load_keys()) == 1
    assert order in (["x-in", "x-out", "y-in", "y-out"], ["y-in", "y-out", "x-in", "x-out"])


async def test_sql_keys_protected_by_aspnet_data_protection_are_skipped_with_a_warning(sql_backend, caplog):
    kid = f"NETKEY{secrets.token_hex(4)}"  # each row is reported once per process
    async with sql_backend.db.write() as conn:
        await conn.execute(
            insert(keys_table).values(
                Id=kid,
                Version=1,
                Created=CREATED,
                Use="signing",
                Algorithm="RS256",
                IsX509Certificate=False,
                DataProtected=True,
                Data="CfDJ8AAAAAAAAAAA",
            )
        )
    store = SqlSigningKeyStore(sql_backend.db)
    await store.store_key(key("OURS"))
    with caplog.at_level(logging.WARNING, "identityserver.storage"):
        assert [k.id for k in await store.load_keys()] == ["OURS"]
    assert "ASP.NET Data Protection" in caplog.text
