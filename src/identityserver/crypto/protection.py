"""The data-protection contract (ASP.NET ``IDataProtector``): purpose-bound authenticated encryption. The key ring
behind it is ``services.data_protection``; this contract sits low so that validators and the resource-server
module can name it without loading services."""

from __future__ import annotations

from typing import Protocol


class DataProtectionError(ValueError):
    """A protected payload is malformed, was tampered with, or was protected under other keys/purposes."""


class DataProtector(Protocol):
    """Authenticated encryption bound to one purpose (ASP.NET ``IDataProtector``)."""

    async def protect(self, plaintext: bytes) -> str:
        """Seal ``plaintext`` for this protector's purpose; only the same purpose opens it."""

    async def unprotect(self, protected: str) -> bytes:
        """Return the plaintext or raise ``DataProtectionError``."""
        ...


class DataProtectionProvider(Protocol):
    """Creates purpose-bound protectors (ASP.NET ``IDataProtectionProvider``)."""

    def create_protector(self, purpose: str) -> DataProtector:
        """A protector bound to ``purpose``."""
