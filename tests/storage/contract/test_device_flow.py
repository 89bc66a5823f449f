"""DeviceFlowStore behaviour (Duende DeviceFlowStoreTests) on every backend."""

from __future__ import annotations

import asyncio

import pytest

from identityserver.models.claims import Claim, Principal
from identityserver.models.grants import DeviceCode
from identityserver.storage.sqlalchemy.stores import SqlDeviceFlowStore
from identityserver.stores.in_memory import InMemoryDeviceFlowStore


def code(**kwargs) -> DeviceCode:
    values = dict(
        creation_time=1_767_268_800,
        lifetime=300,
        client_id="device",
        requested_scopes=["openid", "api1"],
        is_open_id=True,
        description="TV",
    )
    values.update(kwargs)
    return DeviceCode(**values)


@pytest.fixture
def store(backend):
    return InMemoryDeviceFlowStore() if backend.kind == "in_memory" else SqlDeviceFlowStore(backend.db)


async def test_store_device_authorization_when_successful_expect_device_code_and_user_code_stored(store):
    await store.store_device_authorization("dc1", "uc1", code())
    assert await store.find_by_user_code("uc1") == code()
    assert await store.find_by_device_code("dc1") == code()


async def test_store_device_authorization_when_successful_expect_data_stored(store):
    subject = Principal([Claim("sub", "alice"), Claim("name", "Ålice")])
    data = code(subject=subject, is_authorized=True, authorized_scopes=["openid"], session_id="s1")
    await store.store_device_authorization("dc1", "uc1", data)
    assert await store.find_by_device_code("dc1") == data


async def test_store_device_authorization_when_user_code_already_exists_expect_exception(store):
    await store.store_device_authorization("dc1", "uc1", code())
    with pytest.raises(ValueError):
        await store.store_device_authorization("dc2", "uc1", code())


async def test_store_device_authorization_when_device_code_already_exists_expect_exception(store):
    await store.store_device_authorization("dc1", "uc1", code())
    with pytest.raises(ValueError):
        await store.store_device_authorization("dc1", "uc2", code())


async def test_find_by_user_code_when_user_code_does_not_exist_expect_null(store):
    assert await store.find_by_user_code("nope") is None


async def test_find_by_device_code_when_device_code_does_not_exist_expect_null(store):
    assert await store.find_by_device_code("nope") is None


async def test_update_by_user_code_when_device_code_authorized_expect_subject_and_data_updated(store):
    await store.store_device_authorization("dc1", "uc1", code())
    authorized = code(is_authorized=True, subject=Principal([Claim("sub", "bob")]), authorized_scopes=["api1"])
    await store.update_by_user_code("uc1", authorized)
    assert await store.find_by_device_code("dc1") == authorized
    with pytest.raises(KeyError):
        await store.update_by_user_code("unknown", authorized)


async def test_remove_by_device_code_when_device_code_exists_expect_device_code_deleted(store):
    await store.store_device_authorization("dc1", "uc1", code())
    await store.remove_by_device_code("dc1")
    assert await store.find_by_user_code("uc1") is None


async def test_remove_by_device_code_when_device_code_does_not_exist_expect_success(store):
    await store.remove_by_device_code("never")


async def test_sql_take_by_device_code_lets_exactly_one_of_many_pollers_win(sql_backend):
    store = SqlDeviceFlowStore(sql_backend.db)
    await store.store_device_authorization("dc1", "uc1", code(is_authorized=True))
    results = await asyncio.gather(*(store.take_by_device_code("dc1") for _ in range(20)))
    assert sum(r is not None for r in results) == 1
    assert await store.find_by_device_code("dc1") is None
