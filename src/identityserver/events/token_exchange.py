"""Token exchange events (RFC 8693): one for every exchange, granted or refused. IdentityServer has none (it
leaves token exchange to an extension grant); the ids follow its token events (2000-2021)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from identityserver.events.base import Event, EventCategories, EventTypes


@dataclass(slots=True, kw_only=True)
class TokenExchangeSuccessEvent(Event):
    """An exchange that passed validation; the token it yields is reported by ``TokenIssuedSuccessEvent``."""

    id: ClassVar[int] = 2030
    category: ClassVar[str] = EventCategories.TOKEN
    event_type: ClassVar[EventTypes] = EventTypes.SUCCESS
    name: ClassVar[str] = "Token Exchange Success"

    client_id: str
    subject_id: str | None = None
    subject_token_type: str | None = None
    subject_token_issuer: str | None = None
    actor_id: str | None = None
    """The ``sub`` of the actor token (delegation); ``None`` for impersonation."""
    delegation_depth: int = 0
    """Nested ``act`` claims of the issued token."""
    audiences: tuple[str, ...] = ()
    scopes: str | None = None
    requested_token_type: str | None = None


@dataclass(slots=True, kw_only=True)
class TokenExchangeFailureEvent(Event):
    """A refused exchange; ``message`` carries the error description."""

    id: ClassVar[int] = 2031
    category: ClassVar[str] = EventCategories.TOKEN
    event_type: ClassVar[EventTypes] = EventTypes.FAILURE
    name: ClassVar[str] = "Token Exchange Failure"

    client_id: str
    subject_token_type: str | None = None
    error: str | None = None
