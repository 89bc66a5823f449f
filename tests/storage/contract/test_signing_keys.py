"""SigningKeyStore behaviour on every backend, and the SQL store's treatment of IdentityServer (.NET) keys."""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from identityserver.models.keys import SerializedKey
from identityserver.storage.sqlalchemy.entities import keys as keys_table
from identityserver.storage.sqlalchemy.stores import SqlSigningKeyStore
from identityserver.stores.in_memory import InMemorySigningKeyStore

CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def key(kid: str, data: str = "AQID") -> SerializedKey:
    return SerializedKey(kid, 1, CREATED, "RS256", False, data, True)


@pytest.fixture
def store(backend):
    return InMemorySigningKeyStore() if backend.kind == "in_memory" else SqlSigningKeyStore(backend.db)


async def test_stored_keys_are_loaded(store):
    await store.store_key(key("A"))
    await store.store_key(key("B"))
    assert sorted(k.id for k in await store.load_keys()) == ["A", "B"]
    assert next(k for k in await store.load_keys() if k.id == "A") == key("A")


async def test_storing_a_key_again_replaces_it(store):
    await store.store_key(key("A", "old"))
    await store.store_key(key("A", "new"))
    assert [k.data for k in await store.load_keys()] == ["new"]


async def test_deleted_keys_are_gone_and_deleting_twice_is_harmless(store):
    await store.store_key(key("A"))
    await store.delete_key("A")
    await store.delete_key("A")
    assert await store.load_keys() == []


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
