"""security.md M6: a node validates a JWT signed by a key that another node made after this node last read the
store (reload on an unknown ``kid``), and made-up ``kid``s do not make it read the store on every request."""

from __future__ import annotations

import pytest

import identityserver.services.key_management.key_material as key_material_module
from identityserver.crypto.jwt import decode_jws, encode_jws
from identityserver.options import KeyManagementOptions
from identityserver.services.data_protection import KeyRingDataProtectionProvider
from identityserver.services.key_management.key_manager import DefaultKeyManager
from identityserver.services.key_management.key_material import DefaultKeyMaterialService
from identityserver.stores.in_memory import InMemoryDataProtectionKeyStore, InMemorySigningKeyStore
from tests.support.clock import FakeClock, FakeMonotonic
from tests.support.keys import CountingKeyStore


def node(
    clock: FakeClock, store: InMemorySigningKeyStore, ring: InMemoryDataProtectionKeyStore
) -> DefaultKeyMaterialService:
    """The key material of one node: nodes share the key store and the data-protection ring, as on one database."""
    protector = KeyRingDataProtectionProvider(ring, clock, "tests").create_protector("DataProtectionKeyProtector")
    return DefaultKeyMaterialService(DefaultKeyManager(KeyManagementOptions(), store, protector, clock))


async def test_a_key_made_by_another_node_is_loaded_when_its_kid_is_first_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    ticking = FakeMonotonic()
    monkeypatch.setattr(key_material_module, "monotonic", ticking)
    clock, store, ring = FakeClock(), CountingKeyStore(), InMemoryDataProtectionKeyStore()
    a, b = node(clock, store, ring), node(clock, store, ring)
    old = await a.get_signing_credentials()
    assert [k.id for k in await b.get_validation_keys()] == [old.id]  # B has read the keys and caches them
    await store.delete_key(old.id)  # `identityserver keys retire` of the only key: A makes its successor at once
    a.key_manager.invalidate_cache()  # type: ignore[attr-defined]
    new = await a.get_signing_credentials()
    assert new.id != old.id
    token = encode_jws({"alg": new.algorithm, "kid": new.id}, {"sub": "1"}, new.private_key)
    loads = store.loads
    assert await b.verify_issued_jws(decode_jws(token)) is True
    assert store.loads == loads + 1  # one reload, for the unknown kid
    assert await b.verify_issued_jws(decode_jws(token)) is True
    assert store.loads == loads + 1  # known now: no further read

    forged = encode_jws({"alg": new.algorithm, "kid": "MADE-UP"}, {"sub": "1"}, new.private_key)
    ticking.now += 1
    for _ in range(50):  # within the interval: refused without reading the store again
        assert await b.verify_issued_jws(decode_jws(forged)) is False
    assert store.loads == loads + 1
    ticking.now += key_material_module.UNKNOWN_KID_RELOAD_INTERVAL
    assert await b.verify_issued_jws(decode_jws(forged)) is False
    assert store.loads == loads + 2  # one more read once the interval has passed


async def test_a_known_kid_with_a_bad_signature_reads_nothing_again() -> None:
    clock, store, ring = FakeClock(), CountingKeyStore(), InMemoryDataProtectionKeyStore()
    a = node(clock, store, ring)
    key = await a.get_signing_credentials()
    token = encode_jws({"alg": key.algorithm, "kid": key.id}, {"sub": "1"}, key.private_key)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    loads = store.loads
    assert await a.verify_issued_jws(decode_jws(tampered)) is False
    assert store.loads == loads


async def test_a_failed_reload_refuses_the_unknown_kid_and_keeps_the_cached_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A made-up ``kid`` while the store is down: 401 material (``False``), not a server error, and the keys read
    before stay in use for signing, JWKS and known tokens."""
    monkeypatch.setattr(key_material_module, "monotonic", FakeMonotonic())
    clock, store, ring = FakeClock(), CountingKeyStore(), InMemoryDataProtectionKeyStore()
    b = node(clock, store, ring)
    key = await b.get_signing_credentials()
    token = encode_jws({"alg": key.algorithm, "kid": key.id}, {"sub": "1"}, key.private_key)
    forged = encode_jws({"alg": key.algorithm, "kid": "MADE-UP"}, {"sub": "1"}, key.private_key)
    store.down = True
    assert await b.verify_issued_jws(decode_jws(forged)) is False
    assert await b.verify_issued_jws(decode_jws(token)) is True
    assert [k.id for k in await b.get_validation_keys()] == [key.id]
    assert (await b.get_signing_credentials()).id == key.id
