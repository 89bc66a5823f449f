"""Signing keys as stored (Duende ``SerializedKey``) and as used (``KeyContainer``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from identityserver.crypto.jwk import PrivateKey


@dataclass(slots=True)
class SerializedKey:
    """A key as persisted by a ``SigningKeyStore``; ``data`` is encrypted when ``data_protected``."""

    id: str
    version: int
    created: datetime
    algorithm: str
    is_x509_certificate: bool
    data: str
    data_protected: bool
    use: str = "signing"


@dataclass(slots=True)
class KeyContainer:
    """A usable signing key: its id (kid), algorithm, creation time and private key."""

    id: str
    algorithm: str
    created: datetime
    private_key: PrivateKey


@dataclass(slots=True)
class DataProtectionKey:
    """One master key of the data-protection key ring (256 random bits)."""

    id: str
    created: datetime
    activation: datetime
    expiration: datetime
    material: bytes
