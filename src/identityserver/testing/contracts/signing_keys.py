"""``SigningKeyStore`` contract: stored keys load unchanged, storing a key again replaces it, deleting is
idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import pytest_asyncio

from identityserver.models.keys import SerializedKey
from identityserver.stores.protocols import SigningKeyStore
from identityserver.testing.factory import StoreFactory

CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def key(kid: str, data: str = "AQID") -> SerializedKey:
    return SerializedKey(kid, 1, CREATED, "RS256", False, data, True)


class SigningKeyStoreContract:
    """Needs ``store_factory.signing_key_store``."""

    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def store(self, store_factory: StoreFactory) -> SigningKeyStore:
        return await store_factory.signing_key_store()

    async def test_stored_keys_are_loaded(self, store: SigningKeyStore) -> None:
        await store.store_key(key("A"))
        await store.store_key(key("B"))
        assert sorted(k.id for k in await store.load_keys()) == ["A", "B"]
        assert next(k for k in await store.load_keys() if k.id == "A") == key("A")

    async def test_storing_a_key_again_replaces_it(self, store: SigningKeyStore) -> None:
        await store.store_key(key("A", "old"))
        await store.store_key(key("A", "new"))
        assert [k.data for k in await store.load_keys()] == ["new"]

    async def test_deleted_keys_are_gone_and_deleting_twice_is_harmless(self, store: SigningKeyStore) -> None:
        await store.store_key(key("A"))
        await store.delete_key("A")
        await store.delete_key("A")
        assert await store.load_keys() == []
