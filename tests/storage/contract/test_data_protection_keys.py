"""DataProtectionKeyStore behaviour on every backend, and the cross-process lock of the SQL store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from identityserver.models.keys import DataProtectionKey
from identityserver.services.data_protection import KeyRingDataProtectionProvider
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.stores import SqlDataProtectionKeyStore
from identityserver.stores.in_memory import InMemoryDataProtectionKeyStore
from tests.support.clock import FakeClock

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def dp_key(kid: str) -> DataProtectionKey:
    return DataProtectionKey(kid, NOW, NOW, NOW + timedelta(days=90), bytes(range(32)))


@pytest.fixture
def store(backend):
    return InMemoryDataProtectionKeyStore() if backend.kind == "in_memory" else SqlDataProtectionKeyStore(backend.db)


async def test_stored_keys_are_loaded_unchanged(store):
    await store.store_key(dp_key("a" * 32))
    assert await store.load_keys() == [dp_key("a" * 32)]


async def test_lock_can_be_taken_and_the_store_used_inside_it(store):
    async with store.lock():
        await store.store_key(dp_key("b" * 32))
        assert len(await store.load_keys()) == 1


async def test_two_providers_on_one_database_create_one_key(sql_backend):
    other = Database(sql_backend.url)
    try:
        providers = [
            KeyRingDataProtectionProvider(SqlDataProtectionKeyStore(db), FakeClock(), "app")
            for db in (sql_backend.db, other)
        ]
        await asyncio.gather(*(p.initialize() for p in providers))
        assert len(await SqlDataProtectionKeyStore(sql_backend.db).load_keys()) == 1
        sealed = await providers[0].create_protector("p").protect(b"secret")
        assert await providers[1].create_protector("p").unprotect(sealed) == b"secret"
    finally:
        await other.dispose()
