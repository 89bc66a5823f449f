"""Consent and grant events (Duende ``ConsentGrantedEvent``, ``ConsentDeniedEvent``, ``GrantsRevokedEvent``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from identityserver.events.base import Event, EventCategories, EventTypes

#: The keys these events have always been logged with.
_SNAKE_KEYS: Mapping[str, str] = {"client_id": "client_id", "subject_id": "subject_id"}


@dataclass(slots=True, kw_only=True)
class ConsentGrantedEvent(Event):
    id: ClassVar[int] = 4000
    category: ClassVar[str] = EventCategories.GRANTS
    event_type: ClassVar[EventTypes] = EventTypes.INFORMATION
    name: ClassVar[str] = "Consent granted"
    json_keys: ClassVar[Mapping[str, str]] = _SNAKE_KEYS

    subject_id: str
    client_id: str
    scopes: str
    """The granted scopes, space-separated."""
    remember_consent: bool
    requested_scopes: str | None = None


@dataclass(slots=True, kw_only=True)
class ConsentDeniedEvent(Event):
    id: ClassVar[int] = 4001
    category: ClassVar[str] = EventCategories.GRANTS
    event_type: ClassVar[EventTypes] = EventTypes.INFORMATION
    name: ClassVar[str] = "Consent denied"
    json_keys: ClassVar[Mapping[str, str]] = _SNAKE_KEYS

    subject_id: str
    client_id: str
    scopes: str = ""
    remember_consent: bool = False
    requested_scopes: str | None = None


@dataclass(slots=True, kw_only=True)
class GrantsRevokedEvent(Event):
    id: ClassVar[int] = 4002
    category: ClassVar[str] = EventCategories.GRANTS
    event_type: ClassVar[EventTypes] = EventTypes.INFORMATION
    name: ClassVar[str] = "Grants revoked"
    json_keys: ClassVar[Mapping[str, str]] = _SNAKE_KEYS

    subject_id: str
    client_id: str | None = None
    """``None`` when all of the user's grants were revoked."""
