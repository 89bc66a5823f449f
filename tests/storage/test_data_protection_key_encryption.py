"""The SQL key ring (``IdentityServerDataProtectionKeys``) encrypted at rest: rows hold wrapped master keys when a
key-encryption key is configured, the server composed from a configuration file reads them back after a restart,
refuses to start without the KEK or with another one, and ``rewrap_key_ring`` converts clear rows and rotates."""

from __future__ import annotations

import base64
import secrets

import pytest
from sqlalchemy import select

from identityserver.configuration.host import create_builder
from identityserver.configuration.loader import parse_configuration
from identityserver.crypto.key_encryption import MAGIC, KeyEncryptionError, KeyEncryptionKey
from identityserver.services.data_protection import KeyRingDataProtectionProvider, rewrap_key_ring
from identityserver.storage.sqlalchemy.entities.operational import data_protection_keys as table
from identityserver.storage.sqlalchemy.stores import SqlDataProtectionKeyStore
from tests.support.clock import FakeClock

SECRET = b"sealed by the first process"


async def raw_rows(database) -> dict[str, bytes]:
    async with database.read() as conn:
        rows = (await conn.execute(select(table.c.Id, table.c.Material))).all()
    return {row.Id: base64.b64decode(row.Material) for row in rows}


def services_for(backend, tmp_path, env: str | None):
    options = {"data_protection": {"key_encryption_key_env": env}} if env else {}
    config = parse_configuration({"database_url": backend.url, "options": options})
    return create_builder(config, tmp_path / "state").build()


async def start(services) -> None:
    for step in services.startup:
        await step()


async def stop(services) -> None:
    for step in services.shutdown:
        await step()


async def test_the_configured_server_stores_wrapped_keys_and_reads_them_after_a_restart(
    sql_backend, tmp_path, monkeypatch
) -> None:
    kek_text = KeyEncryptionKey.generate()
    monkeypatch.setenv("TEST_IDENTITYSERVER_KEK", kek_text)
    first = services_for(sql_backend, tmp_path, "TEST_IDENTITYSERVER_KEK")
    await start(first)
    try:
        protected = await first.data_protection.create_protector("p").protect(SECRET)
        (clear,) = first.data_protection._keys.values()
    finally:
        await stop(first)
    (stored,) = (await raw_rows(sql_backend.db)).values()
    assert stored.startswith(MAGIC)
    assert clear.material not in stored

    second = services_for(sql_backend, tmp_path, "TEST_IDENTITYSERVER_KEK")
    await start(second)
    try:
        assert await second.data_protection.create_protector("p").unprotect(protected) == SECRET
    finally:
        await stop(second)

    without = services_for(sql_backend, tmp_path, None)
    with pytest.raises(KeyEncryptionError, match="no key-encryption key is configured"):
        await start(without)
    monkeypatch.setenv("TEST_IDENTITYSERVER_KEK", KeyEncryptionKey.generate())
    wrong = services_for(sql_backend, tmp_path, "TEST_IDENTITYSERVER_KEK")
    with pytest.raises(KeyEncryptionError, match="but the configured key-encryption key"):
        await start(wrong)
    assert list((await raw_rows(sql_backend.db)).values()) == [stored]  # no new ring was created


async def test_building_without_the_kek_variable_fails_clearly(sql_backend, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("TEST_IDENTITYSERVER_KEK", raising=False)
    with pytest.raises(KeyEncryptionError, match=r"TEST_IDENTITYSERVER_KEK .*is not set"):
        services_for(sql_backend, tmp_path, "TEST_IDENTITYSERVER_KEK")


async def test_rewrap_converts_clear_rows_and_rotates_the_kek(sql_backend) -> None:
    store = SqlDataProtectionKeyStore(sql_backend.db)
    clear_ring = KeyRingDataProtectionProvider(store, FakeClock(), "identityserver")
    await clear_ring.initialize()
    protected = await clear_ring.create_protector("p").protect(SECRET)
    (material,) = (await raw_rows(sql_backend.db)).values()
    assert len(material) == 32

    first, second = KeyEncryptionKey(secrets.token_bytes(32)), KeyEncryptionKey(secrets.token_bytes(32))
    result = await rewrap_key_ring(store, first)
    assert (result.wrapped, result.rotated, result.unchanged) == (1, 0, 0)
    (wrapped,) = (await raw_rows(sql_backend.db)).values()
    assert wrapped.startswith(MAGIC)
    assert material not in wrapped

    result = await rewrap_key_ring(store, second, [first])
    assert (result.wrapped, result.rotated, result.unchanged) == (0, 1, 0)
    ring = KeyRingDataProtectionProvider(store, FakeClock(), "identityserver", key_encryption_key=second)
    await ring.initialize()
    assert await ring.create_protector("p").unprotect(protected) == SECRET
    with pytest.raises(KeyEncryptionError):
        await KeyRingDataProtectionProvider(store, FakeClock(), "identityserver", key_encryption_key=first).initialize()
