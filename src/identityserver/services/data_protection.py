"""Data protection: a rotating key ring and purpose-bound authenticated encryption (ASP.NET Data Protection).

Each payload is sealed with AES-256-GCM under a subkey derived by HKDF-SHA256 from a master key of the ring,
the explicit application name and the purpose. A payload protected under another application name or
purpose fails to open. The key ring is shared by every process through its store (files or SQL).
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from identityserver._utils.b64 import b64url_decode, b64url_encode
from identityserver.clock import Clock, monotonic
from identityserver.crypto.protection import DataProtectionError
from identityserver.models.keys import DataProtectionKey
from identityserver.stores.protocols import DataProtectionKeyStore

_VERSION = b"\x01"
_ROTATE_BEFORE = timedelta(days=2)


class KeyRingDataProtectionProvider:
    """Creates purpose-bound protectors over a shared, rotating key ring."""

    def __init__(
        self,
        store: DataProtectionKeyStore,
        clock: Clock,
        application_name: str,
        key_lifetime: int = 90 * 86400,
    ) -> None:
        if not application_name:
            raise ValueError("data protection needs an explicit application name")
        if timedelta(seconds=key_lifetime) <= _ROTATE_BEFORE:
            # a key would be due for rotation as soon as it exists: every call would add a key to the ring
            raise ValueError("data protection key_lifetime must be longer than two days")
        self.store = store
        self.clock = clock
        self.application_name = application_name
        self.key_lifetime = timedelta(seconds=key_lifetime)
        self._keys: dict[str, DataProtectionKey] = {}
        self._default: DataProtectionKey | None = None
        self._subkeys: dict[tuple[str, str], AESGCM] = {}
        self._lock = asyncio.Lock()
        self._next_reload = 0.0

    def create_protector(self, purpose: str) -> KeyRingDataProtector:
        """A protector bound to ``purpose``: what it seals only a protector of the same purpose opens."""
        return KeyRingDataProtector(self, purpose)

    async def initialize(self) -> None:
        """Load the key ring, creating the first key (or a successor of an expiring one) when needed."""
        await self._ensure_default_key()

    def _pick_default(self, now: datetime) -> DataProtectionKey | None:
        usable = [k for k in self._keys.values() if k.activation <= now < k.expiration]
        return max(usable, key=lambda k: k.activation) if usable else None

    async def _reload(self) -> None:
        for key in await self.store.load_keys():
            self._keys[key.id] = key

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
                        await self.store.store_key(fresh)
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
        key_id = uuid.UUID(key.id).bytes
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
        key_id = uuid.UUID(bytes=raw[1:17]).hex
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
