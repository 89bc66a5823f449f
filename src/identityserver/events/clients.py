"""Client and API authentication events (Duende ``ClientAuthenticationSuccessEvent`` ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from identityserver.events.base import Event, EventCategories, EventTypes


@dataclass(slots=True, kw_only=True)
class ClientAuthenticationSuccessEvent(Event):
    id: ClassVar[int] = 1010
    category: ClassVar[str] = EventCategories.AUTHENTICATION
    event_type: ClassVar[EventTypes] = EventTypes.SUCCESS
    name: ClassVar[str] = "Client Authentication Success"

    client_id: str
    authentication_method: str
    """``client_secret_basic``, ``private_key_jwt``, ..."""


@dataclass(slots=True, kw_only=True)
class ClientAuthenticationFailureEvent(Event):
    """``message`` carries the real reason (the client is answered with a generic one)."""

    id: ClassVar[int] = 1011
    category: ClassVar[str] = EventCategories.AUTHENTICATION
    event_type: ClassVar[EventTypes] = EventTypes.FAILURE
    name: ClassVar[str] = "Client Authentication Failure"

    client_id: str | None = None
    """The id the request claimed; ``None`` when it sent no credentials."""


@dataclass(slots=True, kw_only=True)
class ApiAuthenticationSuccessEvent(Event):
    id: ClassVar[int] = 1020
    category: ClassVar[str] = EventCategories.AUTHENTICATION
    event_type: ClassVar[EventTypes] = EventTypes.SUCCESS
    name: ClassVar[str] = "API Authentication Success"

    api_name: str
    authentication_method: str | None = None


@dataclass(slots=True, kw_only=True)
class ApiAuthenticationFailureEvent(Event):
    id: ClassVar[int] = 1021
    category: ClassVar[str] = EventCategories.AUTHENTICATION
    event_type: ClassVar[EventTypes] = EventTypes.FAILURE
    name: ClassVar[str] = "API Authentication Failure"

    api_name: str
    """The name the request claimed."""
