"""Service contracts (Duende ``Services`` interfaces without the ``I``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from identityserver.models.contexts import IsActiveContext, ProfileDataRequestContext
from identityserver.models.grants import Token
from identityserver.models.keys import KeyContainer

if TYPE_CHECKING:
    from identityserver.events.base import Event


class DataProtector(Protocol):
    """Authenticated encryption bound to one purpose (ASP.NET ``IDataProtector``)."""

    async def protect(self, plaintext: bytes) -> str: ...

    async def unprotect(self, protected: str) -> bytes:
        """Return the plaintext or raise ``DataProtectionError``."""
        ...


class DataProtectionProvider(Protocol):
    def create_protector(self, purpose: str) -> DataProtector: ...


class ReplayCache(Protocol):
    """Remembers one-time values (DPoP ``jti``, client-assertion ``jti``) until they expire."""

    async def add(self, purpose: str, handle: str, lifetime_seconds: float) -> bool:
        """Atomically record the value; return ``False`` if it was already present (a replay)."""
        ...


class EventSink(Protocol):
    async def persist(self, event: Event) -> None: ...


class ProfileService(Protocol):
    async def get_profile_data(self, context: ProfileDataRequestContext) -> None:
        """Add the subject's claims to ``context.issued_claims``."""
        ...

    async def is_active(self, context: IsActiveContext) -> None:
        """Set ``context.is_active`` to ``False`` when the subject may no longer get tokens."""
        ...


class KeyMaterialService(Protocol):
    async def get_signing_credentials(self, allowed_algorithms: list[str] | None = None) -> KeyContainer: ...

    async def get_validation_keys(self) -> list[KeyContainer]: ...


class TokenCreationService(Protocol):
    async def create_token(self, token: Token) -> str:
        """Serialize and sign a token as a JWT."""
        ...


class HandleGenerationService(Protocol):
    def generate_handle(self) -> str: ...


class CorsPolicyService(Protocol):
    async def is_origin_allowed(self, origin: str) -> bool: ...
