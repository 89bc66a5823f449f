"""``ResourceStore`` contract (Duende ``ResourceStoreTests``): lookups by name and scope return exactly the
requested resources, disabled and hidden ones included, with every property intact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import pytest_asyncio

from identityserver.models.client import Secret
from identityserver.models.resources import ApiResource, ApiScope, IdentityResource
from identityserver.stores.protocols import ResourceStore
from identityserver.testing.factory import StoreFactory

IDENTITY = [
    IdentityResource("openid", ["sub"], required=True),
    IdentityResource("profile", ["name", "family_name"], display_name="Profile", emphasize=True, properties={"a": "b"}),
]
SCOPES = [
    ApiScope("api1", ["role"], description="API 1", required=True, properties={"x": "y"}),
    ApiScope("api2"),
    ApiScope("hidden", show_in_discovery_document=False, enabled=False),
]
APIS = [
    ApiResource(
        "urn:api1",
        ["api1"],
        [Secret("hash", description="s", expiration=datetime(2031, 1, 1, tzinfo=UTC))],
        ["email"],
        display_name="API one",
        require_resource_indicator=True,
        allowed_access_token_signing_algorithms=["PS256"],
        properties={"p": "q"},
    ),
    ApiResource("urn:api2", ["api2", "api1"]),
    ApiResource("urn:hidden", ["hidden"], enabled=False, show_in_discovery_document=False),
]


class ResourceStoreContract:
    """Needs ``store_factory.resource_store``; the ``store`` fixture holds ``IDENTITY``, ``SCOPES`` and ``APIS``."""

    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def store(self, store_factory: StoreFactory) -> ResourceStore:
        return await store_factory.resource_store(IDENTITY, SCOPES, APIS)

    async def test_find_api_resources_by_name_when_resource_exists_expect_resource_and_collections_returned(
        self, store: ResourceStore
    ) -> None:
        assert await store.find_api_resources_by_name(["urn:api1"]) == [APIS[0]]

    async def test_find_api_resources_by_name_when_resources_exist_expect_only_resources_requested_returned(
        self, store: ResourceStore
    ) -> None:
        found = await store.find_api_resources_by_name(["urn:api2", "urn:missing", "urn:hidden"])
        assert [a.name for a in found] == ["urn:api2", "urn:hidden"]

    async def test_find_api_resources_by_scope_name_when_resources_exist_expect_resources_returned(
        self, store: ResourceStore
    ) -> None:
        found = await store.find_api_resources_by_scope_name(["api1"])
        assert sorted(a.name for a in found) == ["urn:api1", "urn:api2"]

    async def test_find_api_resources_by_scope_name_when_resources_exist_expect_only_resources_requested_returned(
        self, store: ResourceStore
    ) -> None:
        assert [a.name for a in await store.find_api_resources_by_scope_name(["hidden"])] == ["urn:hidden"]
        assert await store.find_api_resources_by_scope_name([]) == []

    async def test_find_identity_resources_by_scope_name_when_resource_exists_expect_resource_and_collections_returned(
        self, store: ResourceStore
    ) -> None:
        assert await store.find_identity_resources_by_scope_name(["profile"]) == [IDENTITY[1]]

    async def test_find_identity_resources_by_scope_name_when_resources_exist_expect_only_requested_returned(
        self, store: ResourceStore
    ) -> None:
        found = await store.find_identity_resources_by_scope_name(["profile", "openid", "api1"])
        assert [r.name for r in found] == ["profile", "openid"]

    async def test_find_api_scopes_by_name_when_resource_exists_expect_resource_and_collections_returned(
        self, store: ResourceStore
    ) -> None:
        assert await store.find_api_scopes_by_name(["api1"]) == [SCOPES[0]]

    async def test_find_api_scopes_by_name_when_resources_exist_expect_only_requested_returned(
        self, store: ResourceStore
    ) -> None:
        assert [s.name for s in await store.find_api_scopes_by_name(["api2", "nope", "hidden"])] == ["api2", "hidden"]

    async def test_get_all_resources_when_all_resources_requested_expect_all_resources_including_hidden(
        self, store: ResourceStore
    ) -> None:
        everything = await store.get_all_resources()
        assert everything.identity_resources == IDENTITY
        assert everything.api_scopes == SCOPES
        assert everything.api_resources == APIS
