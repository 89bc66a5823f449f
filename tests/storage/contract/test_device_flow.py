"""DeviceFlowStore behaviour (``identityserver.testing.contracts.device_flow``, Duende DeviceFlowStoreTests) on
every backend, and the SQL store's atomic take."""

from __future__ import annotations

import asyncio

from identityserver.storage.sqlalchemy.stores import SqlDeviceFlowStore
from identityserver.testing.contracts import DeviceFlowStoreContract
from identityserver.testing.contracts.device_flow import code


class TestDeviceFlowStore(DeviceFlowStoreContract):
    pass


async def test_sql_take_by_device_code_lets_exactly_one_of_many_pollers_win(sql_backend):
    store = SqlDeviceFlowStore(sql_backend.db)
    await store.store_device_authorization("dc1", "uc1", code(is_authorized=True))
    results = await asyncio.gather(*(store.take_by_device_code("dc1") for _ in range(20)))
    assert sum(r is not None for r in results) == 1
    assert await store.find_by_device_code("dc1") is None
