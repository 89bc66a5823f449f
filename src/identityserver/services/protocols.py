"""Service contracts (Duende ``Services`` interfaces without the ``I``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from identityserver.models.contexts import IsActiveContext, ProfileDataRequestContext
from identityserver.models.grants import Token
from identityserver.models.keys import KeyContainer
from identityserver.models.messages import AuthorizationRequest

if TYPE_CHECKING:
    from identityserver.events.base import Event


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


class CorsPolicyService(Protocol):
    async def is_origin_allowed(self, origin: str) -> bool: ...


class ReturnUrlParser(Protocol):
    """Reads the authorize request behind a login/consent ``returnUrl`` (Duende ``IReturnUrlParser``)."""

    async def parse(self, return_url: str | None, issuer: str) -> AuthorizationRequest | None:
        """The validated request, or ``None`` when the URL is not a pending authorize request of this server."""
        ...
