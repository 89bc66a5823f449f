"""DataProtectionKeyStore behaviour (``identityserver.testing.contracts.data_protection_keys``) on every backend,
and the cross-process lock of the SQL store."""

from __future__ import annotations

import asyncio

from identityserver.services.data_protection import KeyRingDataProtectionProvider
from identityserver.storage.sqlalchemy.stores import SqlDataProtectionKeyStore
from identityserver.testing.contracts import DataProtectionKeyStoreContract
from tests.support.clock import FakeClock


class TestDataProtectionKeyStore(DataProtectionKeyStoreContract):
    pass


async def test_two_providers_on_one_database_create_one_key(sql_backend):
    async with sql_backend.another_node() as other:
        providers = [
            KeyRingDataProtectionProvider(SqlDataProtectionKeyStore(db), FakeClock(), "app")
            for db in (sql_backend.db, other)
        ]
        await asyncio.gather(*(p.initialize() for p in providers))
        assert len(await SqlDataProtectionKeyStore(sql_backend.db).load_keys()) == 1
        sealed = await providers[0].create_protector("p").protect(b"secret")
        assert await providers[1].create_protector("p").unprotect(sealed) == b"secret"
