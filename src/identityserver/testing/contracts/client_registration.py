"""``ClientRegistrationStore`` contract (RFC 7592 client management): an update replaces every property, a removed
client is gone, and changing or removing an unknown client is a ``LookupError`` that changes nothing."""

from __future__ import annotations

import dataclasses

import pytest

from identityserver.models.client import Client
from identityserver.testing.contracts.clients import full_client
from identityserver.testing.factory import StoreFactory


class ClientRegistrationStoreContract:
    """Needs ``store_factory.client_registration_store``."""

    pytestmark = pytest.mark.asyncio

    async def test_add_then_find(self, store_factory: StoreFactory) -> None:
        store = await store_factory.client_registration_store([])
        await store.add(Client("new", client_name="New"))
        assert await store.find_client_by_id("new") == Client("new", client_name="New")

    async def test_update_replaces_every_property(self, store_factory: StoreFactory) -> None:
        store = await store_factory.client_registration_store([Client("full"), Client("other", client_name="Other")])
        await store.update(full_client())
        assert await store.find_client_by_id("full") == full_client()
        await store.update(Client("full", client_name="Plain"))
        assert await store.find_client_by_id("full") == Client("full", client_name="Plain")
        assert await store.find_client_by_id("other") == Client("other", client_name="Other")

    async def test_update_of_an_unknown_client_raises_and_adds_nothing(self, store_factory: StoreFactory) -> None:
        store = await store_factory.client_registration_store([Client("c1")])
        with pytest.raises(LookupError):
            await store.update(dataclasses.replace(full_client(), client_id="missing"))
        assert await store.find_client_by_id("missing") is None

    async def test_remove_deletes_the_client_only(self, store_factory: StoreFactory) -> None:
        store = await store_factory.client_registration_store([full_client(), Client("c2")])
        await store.remove("full")
        assert await store.find_client_by_id("full") is None
        assert await store.find_client_by_id("c2") == Client("c2")
        with pytest.raises(LookupError):
            await store.remove("full")
