"""``DeviceFlowStore`` contract (Duende ``DeviceFlowStoreTests``): device authorizations found by either code,
unique codes, authorization by user code, removal, and the atomic take of the device grant."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import pytest_asyncio

from identityserver.models.claims import Claim, Principal
from identityserver.models.grants import DeviceCode
from identityserver.stores.protocols import DeviceFlowStore
from identityserver.testing.factory import StoreFactory


def code(**kwargs: Any) -> DeviceCode:
    values: dict[str, Any] = dict(
        creation_time=1_767_268_800,
        lifetime=300,
        client_id="device",
        requested_scopes=["openid", "api1"],
        is_open_id=True,
        description="TV",
    )
    values.update(kwargs)
    return DeviceCode(**values)


class DeviceFlowStoreContract:
    """Needs ``store_factory.device_flow_store``."""

    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def store(self, store_factory: StoreFactory) -> DeviceFlowStore:
        return await store_factory.device_flow_store()

    async def test_store_device_authorization_when_successful_expect_device_code_and_user_code_stored(
        self, store: DeviceFlowStore
    ) -> None:
        await store.store_device_authorization("dc1", "uc1", code())
        assert await store.find_by_user_code("uc1") == code()
        assert await store.find_by_device_code("dc1") == code()

    async def test_store_device_authorization_when_successful_expect_data_stored(self, store: DeviceFlowStore) -> None:
        subject = Principal([Claim("sub", "alice"), Claim("name", "Ålice")])
        data = code(subject=subject, is_authorized=True, authorized_scopes=["openid"], session_id="s1")
        await store.store_device_authorization("dc1", "uc1", data)
        assert await store.find_by_device_code("dc1") == data

    async def test_store_device_authorization_when_user_code_already_exists_expect_exception(
        self, store: DeviceFlowStore
    ) -> None:
        await store.store_device_authorization("dc1", "uc1", code())
        with pytest.raises(ValueError):
            await store.store_device_authorization("dc2", "uc1", code())

    async def test_store_device_authorization_when_device_code_already_exists_expect_exception(
        self, store: DeviceFlowStore
    ) -> None:
        await store.store_device_authorization("dc1", "uc1", code())
        with pytest.raises(ValueError):
            await store.store_device_authorization("dc1", "uc2", code())

    async def test_find_by_user_code_when_user_code_does_not_exist_expect_null(self, store: DeviceFlowStore) -> None:
        assert await store.find_by_user_code("nope") is None

    async def test_find_by_device_code_when_device_code_does_not_exist_expect_null(
        self, store: DeviceFlowStore
    ) -> None:
        assert await store.find_by_device_code("nope") is None

    async def test_update_by_user_code_when_device_code_authorized_expect_subject_and_data_updated(
        self, store: DeviceFlowStore
    ) -> None:
        await store.store_device_authorization("dc1", "uc1", code())
        authorized = code(is_authorized=True, subject=Principal([Claim("sub", "bob")]), authorized_scopes=["api1"])
        await store.update_by_user_code("uc1", authorized)
        assert await store.find_by_device_code("dc1") == authorized
        with pytest.raises(KeyError):
            await store.update_by_user_code("unknown", authorized)

    async def test_remove_by_device_code_when_device_code_exists_expect_device_code_deleted(
        self, store: DeviceFlowStore
    ) -> None:
        await store.store_device_authorization("dc1", "uc1", code())
        await store.remove_by_device_code("dc1")
        assert await store.find_by_user_code("uc1") is None

    async def test_remove_by_device_code_when_device_code_does_not_exist_expect_success(
        self, store: DeviceFlowStore
    ) -> None:
        await store.remove_by_device_code("never")

    async def test_take_by_device_code_lets_exactly_one_of_many_pollers_win(self, store: DeviceFlowStore) -> None:
        await store.store_device_authorization("dc1", "uc1", code(is_authorized=True, authorized_scopes=["api1"]))
        results = await asyncio.gather(*(store.take_by_device_code("dc1") for _ in range(20)))
        assert [r for r in results if r is not None] == [code(is_authorized=True, authorized_scopes=["api1"])]
        assert await store.find_by_device_code("dc1") is None
        assert await store.find_by_user_code("uc1") is None
        assert await store.take_by_device_code("dc1") is None
