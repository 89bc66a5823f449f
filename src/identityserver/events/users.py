"""User sign-in and sign-out events (Duende ``UserLoginSuccessEvent`` ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from identityserver.events.base import Event, EventCategories, EventTypes


@dataclass(slots=True, kw_only=True)
class UserLoginSuccessEvent(Event):
    id: ClassVar[int] = 1000
    category: ClassVar[str] = EventCategories.AUTHENTICATION
    event_type: ClassVar[EventTypes] = EventTypes.SUCCESS
    name: ClassVar[str] = "User Login Success"

    username: str | None = None
    subject_id: str
    client_id: str | None = None
    """The client whose request the user signed in for, if any."""
    display_name: str | None = None
    provider: str | None = None
    """The external identity provider, for external sign-ins."""
    provider_user_id: str | None = None
    endpoint: str | None = None


@dataclass(slots=True, kw_only=True)
class UserLoginFailureEvent(Event):
    """``message`` says why."""

    id: ClassVar[int] = 1001
    category: ClassVar[str] = EventCategories.AUTHENTICATION
    event_type: ClassVar[EventTypes] = EventTypes.FAILURE
    name: ClassVar[str] = "User Login Failure"

    username: str
    client_id: str | None = None
    endpoint: str | None = None


@dataclass(slots=True, kw_only=True)
class UserLogoutSuccessEvent(Event):
    id: ClassVar[int] = 1002
    category: ClassVar[str] = EventCategories.AUTHENTICATION
    event_type: ClassVar[EventTypes] = EventTypes.SUCCESS
    name: ClassVar[str] = "User Logout Success"

    subject_id: str
    session_id: str | None = None
    display_name: str | None = None
