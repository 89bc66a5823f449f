"""Data protection key ring (issue 2; 6.3 upgrade guide Step 3; security.md item 147-148): authenticated
encryption bound to an application name and a purpose, rotation, persistence across restarts."""

from __future__ import annotations

import base64
import json
import shutil
import stat
from pathlib import Path

import pytest

from identityserver._utils.b64 import b64url_decode, b64url_encode
from identityserver.crypto.protection import DataProtectionError
from identityserver.services.data_protection import KeyRingDataProtectionProvider
from identityserver.stores.file_system import FileSystemDataProtectionKeyStore
from identityserver.stores.in_memory import InMemoryDataProtectionKeyStore
from tests.support.clock import FakeClock

SECRET = b'{"sub":"alice","data":"\xe2\x9c\x93"}'
LIFETIME = 90 * 86400


def provider(store=None, clock: FakeClock | None = None, name: str = "identityserver", **kwargs):
    return KeyRingDataProtectionProvider(
        store or InMemoryDataProtectionKeyStore(), clock or FakeClock(), name, **kwargs
    )


def flip(protected: str, index: int) -> str:
    raw = bytearray(b64url_decode(protected))
    raw[index] ^= 0x01
    return b64url_encode(bytes(raw))


async def test_protected_payload_round_trips():
    protector = provider().create_protector("purpose")
    protected = await protector.protect(SECRET)
    assert SECRET not in b64url_decode(protected)
    assert await protector.unprotect(protected) == SECRET


async def test_same_plaintext_protects_to_different_payloads():
    protector = provider().create_protector("purpose")
    assert await protector.protect(SECRET) != await protector.protect(SECRET)


async def test_empty_payload_round_trips():
    protector = provider().create_protector("purpose")
    assert await protector.unprotect(await protector.protect(b"")) == b""


@pytest.mark.parametrize("index", [0, 1, 16, 17, 28, 29, -1])
async def test_any_flipped_bit_is_detected(index):
    protector = provider().create_protector("purpose")
    protected = await protector.protect(SECRET)
    with pytest.raises(DataProtectionError):
        await protector.unprotect(flip(protected, index))


@pytest.mark.parametrize(
    "protected",
    ["", "not base64!", "AAAA", b64url_encode(b"\x01" + bytes(40)), b64url_encode(b"\x02" + bytes(60)), "A" * 10001],
)
async def test_malformed_payload_is_a_data_protection_error(protected):
    with pytest.raises(DataProtectionError):
        await provider().create_protector("purpose").unprotect(protected)


async def test_truncated_payload_is_detected():
    protector = provider().create_protector("purpose")
    protected = await protector.protect(SECRET)
    with pytest.raises(DataProtectionError):
        await protector.unprotect(protected[:-4])


async def test_other_purpose_cannot_read():
    ring = provider()
    protected = await ring.create_protector("signing keys").protect(SECRET)
    with pytest.raises(DataProtectionError):
        await ring.create_protector("persisted grants").unprotect(protected)


async def test_other_application_name_cannot_read_with_the_same_key_ring():
    store, clock = InMemoryDataProtectionKeyStore(), FakeClock()
    protected = await provider(store, clock, "app-a").create_protector("purpose").protect(SECRET)
    other = provider(store, clock, "app-b")
    with pytest.raises(DataProtectionError):
        await other.create_protector("purpose").unprotect(protected)
    same = provider(store, clock, "app-a")
    assert await same.create_protector("purpose").unprotect(protected) == SECRET


async def test_application_name_is_required():
    with pytest.raises(ValueError, match="application name"):
        provider(name="")


async def test_key_lifetime_inside_the_rotation_window_is_refused():
    """Otherwise every call would find the default key due for rotation and add a key to the ring."""
    with pytest.raises(ValueError, match="key_lifetime"):
        provider(key_lifetime=86400)


async def test_key_rotation_keeps_old_payloads_readable():
    store, clock = InMemoryDataProtectionKeyStore(), FakeClock()
    ring = provider(store, clock, key_lifetime=LIFETIME)
    protector = ring.create_protector("purpose")
    old = await protector.protect(SECRET)
    clock.advance(days=89)  # inside the last two days of the default key: a successor is created
    await protector.protect(b"x")
    clock.advance(days=2)  # the first key has expired
    new = await protector.protect(SECRET)
    assert b64url_decode(new)[1:17] != b64url_decode(old)[1:17]  # protected under another key id
    assert len(await store.load_keys()) == 2
    assert await protector.unprotect(old) == SECRET
    assert await protector.unprotect(new) == SECRET


async def test_key_ring_does_not_grow_while_the_default_key_is_fresh():
    store, clock = InMemoryDataProtectionKeyStore(), FakeClock()
    protector = provider(store, clock).create_protector("purpose")
    for _ in range(20):
        await protector.protect(SECRET)
        clock.advance(days=1)
    assert len(await store.load_keys()) == 1


async def test_long_unused_key_ring_gets_a_new_key_and_reads_old_payloads():
    store, clock = InMemoryDataProtectionKeyStore(), FakeClock()
    old = await provider(store, clock).create_protector("purpose").protect(SECRET)
    clock.advance(days=400)
    restarted = provider(store, clock)
    await restarted.initialize()
    assert len(await store.load_keys()) == 2
    assert await restarted.create_protector("purpose").unprotect(old) == SECRET


async def test_key_ring_survives_a_restart_with_the_file_store(tmp_path):
    clock = FakeClock()
    first = provider(FileSystemDataProtectionKeyStore(tmp_path), clock)
    await first.initialize()
    protected = await first.create_protector("purpose").protect(SECRET)
    restarted = provider(FileSystemDataProtectionKeyStore(tmp_path), clock)
    await restarted.initialize()
    assert await restarted.create_protector("purpose").unprotect(protected) == SECRET
    assert len(list(tmp_path.glob("key-*.json"))) == 1


async def test_key_ring_read_without_initialisation_loads_the_keys(tmp_path):
    clock = FakeClock()
    protected = await provider(FileSystemDataProtectionKeyStore(tmp_path), clock).create_protector("p").protect(SECRET)
    assert await provider(FileSystemDataProtectionKeyStore(tmp_path), clock).create_protector("p").unprotect(
        protected
    ) == (SECRET)


async def test_moving_the_key_ring_folder_keeps_payloads_readable(tmp_path):
    """Isolation is by the explicit application name, never by the install path (6.3 upgrade guide Step 3)."""
    clock = FakeClock()
    original = tmp_path / "install-a" / "data-protection"
    protected = await provider(FileSystemDataProtectionKeyStore(original), clock).create_protector("p").protect(SECRET)
    moved = tmp_path / "install-b" / "data-protection"
    shutil.copytree(original, moved)
    shutil.rmtree(tmp_path / "install-a")
    ring = provider(FileSystemDataProtectionKeyStore(moved), clock)
    assert await ring.create_protector("p").unprotect(protected) == SECRET


async def test_key_files_are_private_to_the_owner(tmp_path):
    await provider(FileSystemDataProtectionKeyStore(tmp_path)).initialize()
    files = list(tmp_path.glob("key-*.json"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    document = json.loads(files[0].read_text())
    assert len(base64.b64decode(document["material"])) == 32  # 256-bit master key


async def test_unreadable_key_file_is_skipped_and_a_new_key_is_created(tmp_path, caplog):
    (tmp_path / "key-broken.json").write_text("{not json")
    ring = provider(FileSystemDataProtectionKeyStore(tmp_path))
    protector = ring.create_protector("p")
    assert await protector.unprotect(await protector.protect(SECRET)) == SECRET
    assert len(list(tmp_path.glob("key-*.json"))) == 2
    assert any("key-broken.json" in record.getMessage() for record in caplog.records)


async def test_key_ring_folder_is_created_on_first_use(tmp_path):
    folder: Path = tmp_path / "not" / "yet"
    assert not folder.exists()
    await provider(FileSystemDataProtectionKeyStore(folder)).initialize()
    assert len(list(folder.glob("key-*.json"))) == 1
