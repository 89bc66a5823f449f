"""Data protection: a rotating key ring and purpose-bound authenticated encryption (ASP.NET Data Protection).

Each payload is sealed with AES-256-GCM under a subkey derived by HKDF-SHA256 from a master key of the ring,
the explicit application name and the purpose. A payload protected under another application name or
purpose fails to open. The key ring is shared by every process through its store (files or SQL). With a
key-encryption key (``crypto.key_encryption``) the master keys are stored wrapped under it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from identityserver._utils.b64 import b64url_decode, b64url_encode
from identityserver.clock import Clock, monotonic
from identityserver.crypto.key_encryption import KeyEncryptionError, KeyEncryptionKey, is_wrapped, wrapped_by
from identityserver.crypto.protection import DataProtectionError
from identityserver.models.keys import DataProtectionKey
from identityserver.stores.protocols import DataProtectionKeyStore

_VERSION = b"\x01"
_ROTATE_BEFORE = timedelta(days=2)

logger = logging.getLogger("identityserver.keys")


class KeyRingDataProtectionProvider:
    """Creates purpose-bound protectors over a shared, rotating key ring."""

    def __init__(
        self,
        store: DataProtectionKeyStore,
        clock: Clock,
        application_name: str,
        key_lifetime: int = 90 * 86400,
        key_encryption_key: KeyEncryptionKey | None = None,
    ) -> None:
        """With ``key_encryption_key``, new master keys are stored wrapped under it and wrapped keys are opened
        with it; a wrapped key that cannot be opened stops ``initialize`` (``KeyEncryptionError``)."""
        if not application_name:
            raise ValueError("data protection needs an explicit application name")
        if timedelta(seconds=key_lifetime) <= _ROTATE_BEFORE:
            # a key would be due for rotation as soon as it exists: every call would add a key to the ring
            raise ValueError("data protection key_lifetime must be longer than two days")
        self.store = store
        self.clock = clock
        self.application_name = application_name
        self.key_lifetime = timedelta(seconds=key_lifetime)
        self.key_encryption_key = key_encryption_key
        self._keys: dict[str, DataProtectionKey] = {}
        self._default: DataProtectionKey | None = None
        self._subkeys: dict[tuple[str, str], AESGCM] = {}
        self._id_bytes: dict[str, bytes] = {}
        self._lock = asyncio.Lock()
        self._next_reload = 0.0

    def create_protector(self, purpose: str) -> KeyRingDataProtector:
        """A protector bound to ``purpose``: what it seals only a protector of the same purpose opens."""
        return KeyRingDataProtector(self, purpose)

    async def initialize(self) -> None:
        """Load the key ring, creating the first key (or a successor of an expiring one) when needed."""
        await self._ensure_default_key()
        if self.key_encryption_key is not None:
            clear = sum(1 for key in await self.store.load_keys() if not is_wrapped(key.material))
            if clear:
                logger.warning(
                    "%d data-protection key(s) are stored in clear: run `identityserver keyring rewrap` to wrap "
                    "them under the key-encryption key",
                    clear,
                )

    def _pick_default(self, now: datetime) -> DataProtectionKey | None:
        usable = [k for k in self._keys.values() if k.activation <= now < k.expiration]
        return max(usable, key=lambda k: k.activation) if usable else None

    async def _reload(self) -> None:
        for key in await self.store.load_keys():
            self._keys[key.id] = self._open(key)

    def _open(self, key: DataProtectionKey) -> DataProtectionKey:
        """The key with its master key in clear. A wrapped key is never skipped: a ring that silently lost
        its keys would create a new one, and every payload sealed before would stop opening."""
        if not is_wrapped(key.material):
            return key
        if self.key_encryption_key is None:
            raise KeyEncryptionError(
                f"data-protection key {key.id} is wrapped under key-encryption key {wrapped_by(key.material)}, "
                "but no key-encryption key is configured ([options.data_protection] key_encryption_key_env or "
                "key_encryption_key_file)"
            )
        return dataclasses.replace(key, material=self.key_encryption_key.unwrap(key.material, key.id))

    def _sealed(self, key: DataProtectionKey) -> DataProtectionKey:
        """The key as stored: wrapped under the key-encryption key when there is one."""
        if self.key_encryption_key is None:
            return key
        return dataclasses.replace(key, material=self.key_encryption_key.wrap(key.material, key.id))

    async def _ensure_default_key(self) -> DataProtectionKey:
        now = self.clock.utc_now()
        default = self._default
        if default is not None and now < default.expiration - _ROTATE_BEFORE:
            return default
        async with self._lock:
            await self._reload()
            default = self._pick_default(now)
            if default is None or now >= default.expiration - _ROTATE_BEFORE:
                async with self.store.lock():
                    await self._reload()
                    default = self._pick_default(now)
                    if default is None or now >= default.expiration - _ROTATE_BEFORE:
                        fresh = DataProtectionKey(
                            uuid.uuid4().hex, now, now, now + self.key_lifetime, secrets.token_bytes(32)
                        )
                        await self.store.store_key(self._sealed(fresh))
                        self._keys[fresh.id] = fresh
                        default = fresh if default is None else default
            self._default = default
            return default

    def _cipher(self, key: DataProtectionKey, purpose: str) -> AESGCM:
        cached = self._subkeys.get((key.id, purpose))
        if cached is None:
            info = b"identityserver.dataprotection.v1\x00" + self.application_name.encode() + b"\x00" + purpose.encode()
            derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key.material)
            cached = AESGCM(derived)
            self._subkeys[(key.id, purpose)] = cached
        return cached

    async def protect(self, purpose: str, plaintext: bytes) -> str:
        """Seal ``plaintext`` under the default key for ``purpose`` (AES-256-GCM)."""
        key = await self._ensure_default_key()
        key_id = self._id_bytes.get(key.id)
        if key_id is None:
            key_id = self._id_bytes[key.id] = uuid.UUID(key.id).bytes
        nonce = secrets.token_bytes(12)
        sealed = self._cipher(key, purpose).encrypt(nonce, plaintext, _VERSION + key_id)
        return b64url_encode(_VERSION + key_id + nonce + sealed)

    async def unprotect(self, purpose: str, protected: str) -> bytes:
        """Open a payload sealed by any key of the ring for ``purpose``; raises ``DataProtectionError`` otherwise."""
        try:
            raw = b64url_decode(protected)
        except ValueError as exc:
            raise DataProtectionError("payload is not base64url") from exc
        if len(raw) < 1 + 16 + 12 + 16 or raw[:1] != _VERSION:
            raise DataProtectionError("payload is malformed")
        key_id = raw[1:17].hex()  # uuid.UUID(bytes=...).hex, without building the UUID
        key = self._keys.get(key_id)
        if key is None and monotonic() >= self._next_reload:
            self._next_reload = monotonic() + 30  # bounds store reads caused by forged key ids
            async with self._lock:
                await self._reload()
            key = self._keys.get(key_id)
        if key is None:
            raise DataProtectionError("payload was protected with a key that is not in the key ring")
        try:
            return self._cipher(key, purpose).decrypt(raw[17:29], raw[29:], raw[:17])
        except InvalidTag as exc:
            raise DataProtectionError("payload cannot be opened with this application name and purpose") from exc


class KeyRingDataProtector:
    """A protector bound to one purpose."""

    def __init__(self, provider: KeyRingDataProtectionProvider, purpose: str) -> None:
        self.provider = provider
        self.purpose = purpose

    async def protect(self, plaintext: bytes) -> str:
        """Seal ``plaintext`` for this protector's purpose."""
        return await self.provider.protect(self.purpose, plaintext)

    async def unprotect(self, protected: str) -> bytes:
        """Open a payload sealed for this protector's purpose; raises ``DataProtectionError`` otherwise."""
        return await self.provider.unprotect(self.purpose, protected)


@dataclasses.dataclass(frozen=True, slots=True)
class RewrapResult:
    wrapped: int
    """Keys that were stored in clear and are now wrapped."""
    rotated: int
    """Keys moved from an old key-encryption key to the current one."""
    unchanged: int
    """Keys already wrapped under the current key-encryption key."""


async def rewrap_key_ring(
    store: DataProtectionKeyStore, key_encryption_key: KeyEncryptionKey, old_keys: Sequence[KeyEncryptionKey] = ()
) -> RewrapResult:
    """Store every master key of the ring wrapped under ``key_encryption_key``: clear keys, and keys wrapped under
    one of ``old_keys`` (KEK rotation). Every key is opened before any is written, so a key that no given KEK
    opens changes nothing (``KeyEncryptionError``)."""
    known = {k.id: k for k in (*old_keys, key_encryption_key)}
    async with store.lock():
        pending: list[tuple[DataProtectionKey, bytes]] = []
        wrapped = rotated = unchanged = 0
        for key in await store.load_keys():
            if not is_wrapped(key.material):
                pending.append((key, key.material))
                wrapped += 1
                continue
            kek = known.get(wrapped_by(key.material))
            if kek is None:
                raise KeyEncryptionError(
                    f"data-protection key {key.id} is wrapped under key-encryption key {wrapped_by(key.material)}, "
                    f"which is neither the current one ({key_encryption_key.id}) nor an old one given"
                )
            material = kek.unwrap(key.material, key.id)
            if kek.id == key_encryption_key.id:
                unchanged += 1
            else:
                pending.append((key, material))
                rotated += 1
        for key, material in pending:
            await store.store_key(dataclasses.replace(key, material=key_encryption_key.wrap(material, key.id)))
    return RewrapResult(wrapped, rotated, unchanged)
