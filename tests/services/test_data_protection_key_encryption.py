"""The data-protection key ring encrypted at rest (issue 10 "Packaging and keys at rest"): with a key-encryption
key (KEK) every master key is stored wrapped under it; a wrapped ring is never read without it or with another
one (start-up fails, no new ring is created); clear keys stay readable and ``rewrap_key_ring`` wraps them and
rotates KEKs. These tests use the file-system store, whose raw files they read; the SQL store has its own."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import pytest

from identityserver._utils.b64 import b64url_encode
from identityserver.crypto.key_encryption import (
    MAGIC,
    KeyEncryptionError,
    KeyEncryptionKey,
    load_key_encryption_key,
)
from identityserver.services.data_protection import KeyRingDataProtectionProvider, rewrap_key_ring
from identityserver.stores.file_system import FileSystemDataProtectionKeyStore
from identityserver.stores.in_memory import InMemoryDataProtectionKeyStore
from tests.support.clock import FakeClock

SECRET = b"a payload sealed before the restart"


def new_kek(source: str = "test") -> KeyEncryptionKey:
    return KeyEncryptionKey(secrets.token_bytes(32), source)


def provider(store, kek: KeyEncryptionKey | None, clock: FakeClock | None = None) -> KeyRingDataProtectionProvider:
    return KeyRingDataProtectionProvider(store, clock or FakeClock(), "identityserver", key_encryption_key=kek)


def raw_materials(folder: Path) -> dict[str, bytes]:
    return {
        data["id"]: base64.b64decode(data["material"])
        for data in (json.loads(p.read_text()) for p in sorted(folder.glob("key-*.json")))
    }


async def sealed_with_a_new_ring(folder: Path, kek: KeyEncryptionKey | None) -> tuple[str, bytes]:
    ring = provider(FileSystemDataProtectionKeyStore(folder), kek)
    await ring.initialize()
    protected = await ring.create_protector("p").protect(SECRET)
    (key,) = ring._keys.values()
    return protected, key.material


async def test_stored_master_keys_are_wrapped_not_in_clear(tmp_path: Path) -> None:
    kek = new_kek()
    _, material = await sealed_with_a_new_ring(tmp_path, kek)
    (stored,) = raw_materials(tmp_path).values()
    assert len(material) == 32
    assert stored != material
    assert material not in stored
    assert stored.startswith(MAGIC)
    assert kek.key not in stored
    assert base64.b64encode(material).decode() not in (next(tmp_path.glob("key-*.json"))).read_text()


async def test_without_a_kek_keys_are_stored_in_clear_as_before(tmp_path: Path) -> None:
    _, material = await sealed_with_a_new_ring(tmp_path, None)
    assert list(raw_materials(tmp_path).values()) == [material]


async def test_the_wrapped_ring_works_across_a_restart_with_the_kek(tmp_path: Path) -> None:
    kek = new_kek()
    protected, _ = await sealed_with_a_new_ring(tmp_path, kek)
    restarted = provider(FileSystemDataProtectionKeyStore(tmp_path), KeyEncryptionKey(kek.key, "restarted"))
    await restarted.initialize()
    assert await restarted.create_protector("p").unprotect(protected) == SECRET
    assert len(list(tmp_path.glob("key-*.json"))) == 1


async def test_start_up_fails_without_the_kek_and_creates_no_new_ring(tmp_path: Path) -> None:
    kek = new_kek()
    await sealed_with_a_new_ring(tmp_path, kek)
    before = raw_materials(tmp_path)
    with pytest.raises(KeyEncryptionError, match=f"wrapped under key-encryption key {kek.id}.*no key-encryption key"):
        await provider(FileSystemDataProtectionKeyStore(tmp_path), None).initialize()
    assert raw_materials(tmp_path) == before


async def test_start_up_fails_with_the_wrong_kek_naming_both_ids(tmp_path: Path) -> None:
    kek, wrong = new_kek(), new_kek("environment variable WRONG")
    await sealed_with_a_new_ring(tmp_path, kek)
    before = raw_materials(tmp_path)
    with pytest.raises(KeyEncryptionError) as caught:
        await provider(FileSystemDataProtectionKeyStore(tmp_path), wrong).initialize()
    message = str(caught.value)
    assert kek.id in message
    assert wrong.id in message
    assert "environment variable WRONG" in message
    assert raw_materials(tmp_path) == before


async def test_an_altered_wrapped_key_fails(tmp_path: Path) -> None:
    kek = new_kek()
    await sealed_with_a_new_ring(tmp_path, kek)
    path = next(tmp_path.glob("key-*.json"))
    data = json.loads(path.read_text())
    raw = bytearray(base64.b64decode(data["material"]))
    raw[-1] ^= 1
    data["material"] = base64.b64encode(bytes(raw)).decode()
    path.write_text(json.dumps(data))
    with pytest.raises(KeyEncryptionError, match="altered"):
        await provider(FileSystemDataProtectionKeyStore(tmp_path), kek).initialize()


async def test_a_wrapped_key_is_bound_to_its_key_id(tmp_path: Path) -> None:
    kek = new_kek()
    store = InMemoryDataProtectionKeyStore()
    clock = FakeClock()
    ring = provider(store, kek, clock)
    await ring.initialize()
    (first,) = await store.load_keys()
    clock.advance(89 * 86400)  # the first key is due for rotation: a second one is created
    await ring.create_protector("p").protect(SECRET)
    second = next(k for k in await store.load_keys() if k.id != first.id)
    await store.store_key(type(first)(second.id, second.created, second.activation, second.expiration, first.material))
    with pytest.raises(KeyEncryptionError, match="altered"):
        await provider(store, kek, clock).initialize()


async def test_clear_keys_stay_readable_with_a_kek_and_rewrap_wraps_them(tmp_path: Path, caplog) -> None:
    protected, material = await sealed_with_a_new_ring(tmp_path, None)
    kek = new_kek()
    store = FileSystemDataProtectionKeyStore(tmp_path)
    ring = provider(store, kek)
    with caplog.at_level("WARNING", logger="identityserver.keys"):
        await ring.initialize()
    assert "1 data-protection key(s) are stored in clear" in caplog.text
    assert await ring.create_protector("p").unprotect(protected) == SECRET
    assert list(raw_materials(tmp_path).values()) == [material]  # reading does not write

    result = await rewrap_key_ring(store, kek)
    assert (result.wrapped, result.rotated, result.unchanged) == (1, 0, 0)
    (stored,) = raw_materials(tmp_path).values()
    assert stored.startswith(MAGIC)
    assert material not in stored
    restarted = provider(FileSystemDataProtectionKeyStore(tmp_path), kek)
    await restarted.initialize()
    assert await restarted.create_protector("p").unprotect(protected) == SECRET
    again = await rewrap_key_ring(store, kek)
    assert (again.wrapped, again.rotated, again.unchanged) == (0, 0, 1)
    assert list(raw_materials(tmp_path).values()) == [stored]


async def test_rewrap_rotates_the_kek(tmp_path: Path) -> None:
    old, new = new_kek(), new_kek()
    protected, _ = await sealed_with_a_new_ring(tmp_path, old)
    store = FileSystemDataProtectionKeyStore(tmp_path)
    with pytest.raises(KeyEncryptionError, match="neither the current one"):
        await rewrap_key_ring(store, new)  # the old KEK was not given: nothing changes
    assert next(iter(raw_materials(tmp_path).values()))[len(MAGIC) :][:8].hex() == old.id

    result = await rewrap_key_ring(store, new, [old])
    assert (result.wrapped, result.rotated, result.unchanged) == (0, 1, 0)
    ring = provider(FileSystemDataProtectionKeyStore(tmp_path), new)
    await ring.initialize()
    assert await ring.create_protector("p").unprotect(protected) == SECRET
    with pytest.raises(KeyEncryptionError):
        await provider(FileSystemDataProtectionKeyStore(tmp_path), old).initialize()


async def test_rewrap_opens_every_key_before_writing_any(tmp_path: Path) -> None:
    unknown = new_kek()
    await sealed_with_a_new_ring(tmp_path / "a", None)
    store = FileSystemDataProtectionKeyStore(tmp_path / "a")
    (clear,) = await store.load_keys()
    foreign = type(clear)(
        "f" * 32, clear.created, clear.activation, clear.expiration, unknown.wrap(b"k" * 32, "f" * 32)
    )
    await store.store_key(foreign)
    before = raw_materials(tmp_path / "a")
    with pytest.raises(KeyEncryptionError):
        await rewrap_key_ring(store, new_kek())
    assert raw_materials(tmp_path / "a") == before


def test_the_kek_comes_from_an_environment_variable_or_a_file(tmp_path: Path, monkeypatch) -> None:
    text = KeyEncryptionKey.generate()
    monkeypatch.setenv("TEST_KEK", text)
    (tmp_path / "kek").write_text(text + "\n")
    from_env = load_key_encryption_key("TEST_KEK", None)
    from_file = load_key_encryption_key(None, str(tmp_path / "kek"))
    assert from_env is not None
    assert from_file is not None
    assert from_env.key == from_file.key
    assert from_env.id == from_file.id
    assert text not in repr(from_env)
    assert load_key_encryption_key(None, None) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "is not set"),
        ("", "is not set"),
        ("not base64url!", "not base64url"),
        (b64url_encode(b"short"), "it must be 256 bits"),
        (b64url_encode(secrets.token_bytes(16)), "is 128 bits"),
    ],
)
def test_a_missing_or_malformed_kek_is_refused(monkeypatch, value: str | None, problem: str) -> None:
    if value is None:
        monkeypatch.delenv("TEST_KEK", raising=False)
    else:
        monkeypatch.setenv("TEST_KEK", value)
    with pytest.raises(KeyEncryptionError, match=problem) as caught:
        load_key_encryption_key("TEST_KEK", None)
    if value:
        assert value not in str(caught.value)


def test_a_missing_kek_file_and_both_sources_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyEncryptionError, match="does not exist"):
        load_key_encryption_key(None, str(tmp_path / "missing"))
    with pytest.raises(KeyEncryptionError, match="not both"):
        load_key_encryption_key("X", str(tmp_path / "kek"))
