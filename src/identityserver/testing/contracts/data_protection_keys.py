"""``DataProtectionKeyStore`` contract: the key ring loads unchanged, and the store can be used while its lock
is held (the key ring decides whether to create a key under the lock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from identityserver.models.keys import DataProtectionKey
from identityserver.stores.protocols import DataProtectionKeyStore
from identityserver.testing.factory import StoreFactory

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def dp_key(kid: str) -> DataProtectionKey:
    return DataProtectionKey(kid, NOW, NOW, NOW + timedelta(days=90), bytes(range(32)))


class DataProtectionKeyStoreContract:
    """Needs ``store_factory.data_protection_key_store``."""

    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def store(self, store_factory: StoreFactory) -> DataProtectionKeyStore:
        return await store_factory.data_protection_key_store()

    async def test_stored_keys_are_loaded_unchanged(self, store: DataProtectionKeyStore) -> None:
        await store.store_key(dp_key("a" * 32))
        assert await store.load_keys() == [dp_key("a" * 32)]

    async def test_lock_can_be_taken_and_the_store_used_inside_it(self, store: DataProtectionKeyStore) -> None:
        async with store.lock():
            await store.store_key(dp_key("b" * 32))
            assert len(await store.load_keys()) == 1
