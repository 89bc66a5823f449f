"""The key-encryption key (KEK) that wraps the data-protection key ring's master keys at rest.

A wrapped master key is ``MAGIC | kek id (8) | nonce (12) | AES-256-GCM(master key) | tag (16)``, authenticated
together with the master key's id, so that a wrapped key cannot be moved to another entry of the ring. The KEK id
(a hash of the KEK, not the KEK) names the KEK a key was wrapped under: reading with another KEK is refused with
both ids instead of failing as a bad tag, and rotation can tell old keys from re-wrapped ones."""

from __future__ import annotations

import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from identityserver._utils.b64 import b64url_decode, b64url_encode

MAGIC = b"ISKW\x01"
_ID_LENGTH = 8
_NONCE_LENGTH = 12
_TAG_LENGTH = 16
KEY_LENGTH = 32


class KeyEncryptionError(RuntimeError):
    """The key-encryption key is missing, malformed or wrong, or a wrapped key cannot be opened."""


def is_wrapped(material: bytes) -> bool:
    """Whether stored key material is wrapped (clear master keys are 32 random bytes)."""
    return material.startswith(MAGIC) and len(material) > len(MAGIC) + _ID_LENGTH + _NONCE_LENGTH + _TAG_LENGTH


def wrapped_by(material: bytes) -> str:
    """The id of the KEK that wrapped ``material`` (which must be wrapped)."""
    return material[len(MAGIC) : len(MAGIC) + _ID_LENGTH].hex()


@dataclass(frozen=True, slots=True)
class KeyEncryptionKey:
    """A 256-bit AES key; ``source`` says where it came from (for messages, never the key itself)."""

    key: bytes = field(repr=False)
    source: str = "<key>"

    def __post_init__(self) -> None:
        if len(self.key) != KEY_LENGTH:
            raise KeyEncryptionError(
                f"the key-encryption key from {self.source} is {len(self.key) * 8} bits; it must be 256 bits "
                "(32 random bytes, base64url-encoded)"
            )

    @property
    def id(self) -> str:
        return self._id_bytes().hex()

    def _id_bytes(self) -> bytes:
        return hashlib.sha256(b"identityserver.key-encryption-key.id\x00" + self.key).digest()[:_ID_LENGTH]

    @classmethod
    def from_text(cls, text: str, source: str) -> KeyEncryptionKey:
        """A KEK from its base64url text (padding and surrounding whitespace tolerated)."""
        try:
            key = b64url_decode(text.strip().rstrip("="))
        except (ValueError, binascii.Error) as exc:
            raise KeyEncryptionError(f"the key-encryption key from {source} is not base64url") from exc
        return cls(key, source)

    @classmethod
    def from_file(cls, path: str | Path) -> KeyEncryptionKey:
        source = f"file {str(path)!r}"
        try:
            text = Path(path).read_text(encoding="ascii")
        except FileNotFoundError as exc:
            raise KeyEncryptionError(f"the key-encryption key {source} does not exist") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyEncryptionError(f"cannot read the key-encryption key {source}: {type(exc).__name__}") from exc
        return cls.from_text(text, source)

    @classmethod
    def from_env(cls, name: str) -> KeyEncryptionKey:
        text = os.environ.get(name)
        if not text:
            raise KeyEncryptionError(f"the environment variable {name} (the key-encryption key) is not set")
        return cls.from_text(text, f"environment variable {name}")

    @staticmethod
    def generate() -> str:
        """A new KEK as base64url text."""
        return b64url_encode(secrets.token_bytes(KEY_LENGTH))

    def wrap(self, material: bytes, key_id: str) -> bytes:
        header = MAGIC + self._id_bytes()
        nonce = secrets.token_bytes(_NONCE_LENGTH)
        return header + nonce + AESGCM(self.key).encrypt(nonce, material, header + key_id.encode())

    def unwrap(self, wrapped: bytes, key_id: str) -> bytes:
        """The master key; raises ``KeyEncryptionError`` naming both KEK ids when another KEK wrapped it."""
        if not is_wrapped(wrapped):
            raise KeyEncryptionError(f"data-protection key {key_id} is not wrapped")
        if wrapped_by(wrapped) != self.id:
            raise KeyEncryptionError(
                f"data-protection key {key_id} is wrapped under key-encryption key {wrapped_by(wrapped)}, but the "
                f"configured key-encryption key ({self.source}) is {self.id}"
            )
        start = len(MAGIC) + _ID_LENGTH
        nonce, sealed = wrapped[start : start + _NONCE_LENGTH], wrapped[start + _NONCE_LENGTH :]
        try:
            return AESGCM(self.key).decrypt(nonce, sealed, wrapped[:start] + key_id.encode())
        except InvalidTag as exc:
            raise KeyEncryptionError(
                f"data-protection key {key_id} cannot be unwrapped with key-encryption key {self.id}: "
                "the stored key was altered"
            ) from exc


def load_key_encryption_key(env: str | None, file: str | None) -> KeyEncryptionKey | None:
    """The KEK named by ``[options.data_protection] key_encryption_key_env`` / ``key_encryption_key_file``."""
    if env and file:
        raise KeyEncryptionError("set key_encryption_key_env or key_encryption_key_file, not both")
    if env:
        return KeyEncryptionKey.from_env(env)
    if file:
        return KeyEncryptionKey.from_file(file)
    return None
