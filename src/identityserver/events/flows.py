"""Device flow and CIBA events (Duende ``DeviceAuthorizationSuccessEvent``, ``BackchannelAuthentication...``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from identityserver.events.base import Event, EventCategories, EventTypes


@dataclass(slots=True, kw_only=True)
class DeviceAuthorizationSuccessEvent(Event):
    id: ClassVar[int] = 5000
    category: ClassVar[str] = EventCategories.DEVICE_FLOW
    event_type: ClassVar[EventTypes] = EventTypes.SUCCESS
    name: ClassVar[str] = "Device Authorization Success"

    client_id: str | None = None
    client_name: str | None = None
    endpoint: str | None = None
    scopes: str | None = None


@dataclass(slots=True, kw_only=True)
class DeviceAuthorizationFailureEvent(Event):
    """``message`` carries the error description."""

    id: ClassVar[int] = 5001
    category: ClassVar[str] = EventCategories.DEVICE_FLOW
    event_type: ClassVar[EventTypes] = EventTypes.FAILURE
    name: ClassVar[str] = "Device Authorization Failure"

    client_id: str | None = None
    client_name: str | None = None
    endpoint: str | None = None
    scopes: str | None = None
    error: str | None = None


@dataclass(slots=True, kw_only=True)
class BackchannelAuthenticationSuccessEvent(Event):
    id: ClassVar[int] = 6000
    category: ClassVar[str] = EventCategories.BACKCHANNEL_AUTHENTICATION
    event_type: ClassVar[EventTypes] = EventTypes.SUCCESS
    name: ClassVar[str] = "Backchannel Authentication Success"

    client_id: str | None = None
    client_name: str | None = None
    endpoint: str | None = None
    subject_id: str | None = None
    scopes: str | None = None


@dataclass(slots=True, kw_only=True)
class BackchannelAuthenticationFailureEvent(Event):
    """``message`` carries the error description."""

    id: ClassVar[int] = 6001
    category: ClassVar[str] = EventCategories.BACKCHANNEL_AUTHENTICATION
    event_type: ClassVar[EventTypes] = EventTypes.FAILURE
    name: ClassVar[str] = "Backchannel Authentication Failure"

    client_id: str | None = None
    client_name: str | None = None
    endpoint: str | None = None
    subject_id: str | None = None
    scopes: str | None = None
    error: str | None = None
