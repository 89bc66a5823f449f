"""Signing-key material generated once per test session, for servers whose first start would create a key.

Generating an RSA key costs 35-100 ms, and so does loading one from a store (``load_pem_private_key`` checks
the key). ``pregenerated_signing_keys`` therefore keeps the key manager's real creation path (a fresh kid, the
clock's ``created``, serialization, data protection, ``store_key`` on whatever signing-key store is configured,
the parsed-key cache) and only replaces the RSA/EC arithmetic with material generated once per algorithm and
size. Servers still differ by kid; key-management tests opt out with ``generated_signing_keys()``."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from datetime import datetime
from unittest import mock

from identityserver.crypto.jwk import PrivateKey
from identityserver.models.keys import KeyContainer, SerializedKey
from identityserver.services.key_management import key_manager
from identityserver.services.key_management.serializer import generate_key
from identityserver.stores.in_memory import InMemorySigningKeyStore

_material: dict[tuple[str, int], PrivateKey] = {}
_enabled = True


def _material_key(algorithm: str, rsa_key_size: int) -> tuple[str, int]:
    # RS256/PS384/... can share one RSA key of a size; each ES algorithm has its own curve
    return ("RSA", rsa_key_size) if algorithm[:2] in ("RS", "PS") else (algorithm, 0)


def pregenerated_key(algorithm: str, created: datetime, rsa_key_size: int = 2048) -> KeyContainer:
    """What ``generate_key`` returns, with key material reused across the session (the kid is new)."""
    cache_key = _material_key(algorithm, rsa_key_size)
    material = _material.get(cache_key)
    if material is None:
        material = _material[cache_key] = generate_key(algorithm, created, rsa_key_size).private_key
    return KeyContainer(secrets.token_hex(16).upper(), algorithm, created, material)


@contextlib.contextmanager
def generated_signing_keys() -> Iterator[None]:
    """Servers started within generate their keys for real (what key-management tests want)."""
    global _enabled
    previous, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = previous


@contextlib.contextmanager
def pregenerated_signing_keys() -> Iterator[None]:
    """While active, keys the key manager creates reuse the session's material (see the module docstring)."""
    if not _enabled:
        yield
        return
    with mock.patch.object(key_manager, "generate_key", pregenerated_key):
        yield


class CountingKeyStore(InMemorySigningKeyStore):
    """An in-memory signing-key store that counts its reads, and fails them while ``down`` (the database gone)."""

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0
        self.down = False

    async def load_keys(self) -> list[SerializedKey]:
        self.loads += 1
        if self.down:
            raise ConnectionError("the database went away")
        return await super().load_keys()
