"""The event base type and the catalogue of events (Duende ``Event``, ``EventIds``, ``EventCategories``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class EventTypes(IntEnum):
    SUCCESS = 1
    FAILURE = 2
    INFORMATION = 3
    ERROR = 4


class EventCategories:
    AUTHENTICATION = "Authentication"
    TOKEN = "Token"
    GRANTS = "Grants"
    ERROR = "Error"
    DEVICE_FLOW = "Device"
    BACKCHANNEL_AUTHENTICATION = "BackchannelAuthentication"


@dataclass(slots=True)
class Event:
    """One event. ``details`` carries the event-specific fields; secrets never go in here."""

    category: str
    name: str
    event_type: EventTypes
    id: int
    message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    timestamp: str | None = None
    process_id: int | None = None
    remote_ip_address: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "Name": self.name,
            "Category": self.category,
            "EventType": self.event_type.name.title(),
            "Id": self.id,
            "TimeStamp": self.timestamp,
            "ProcessId": self.process_id,
        }
        if self.message:
            data["Message"] = self.message
        if self.remote_ip_address:
            data["RemoteIpAddress"] = self.remote_ip_address
        data.update(self.details)
        return data


_CATALOGUE: dict[str, tuple[int, str, EventTypes]] = {
    "User Login Success": (1000, EventCategories.AUTHENTICATION, EventTypes.SUCCESS),
    "User Login Failure": (1001, EventCategories.AUTHENTICATION, EventTypes.FAILURE),
    "User Logout Success": (1002, EventCategories.AUTHENTICATION, EventTypes.SUCCESS),
    "Client Authentication Success": (1010, EventCategories.AUTHENTICATION, EventTypes.SUCCESS),
    "Client Authentication Failure": (1011, EventCategories.AUTHENTICATION, EventTypes.FAILURE),
    "API Authentication Success": (1020, EventCategories.AUTHENTICATION, EventTypes.SUCCESS),
    "API Authentication Failure": (1021, EventCategories.AUTHENTICATION, EventTypes.FAILURE),
    "Token Issued Success": (2000, EventCategories.TOKEN, EventTypes.SUCCESS),
    "Token Issued Failure": (2001, EventCategories.TOKEN, EventTypes.FAILURE),
    "Token Revoked Success": (2010, EventCategories.TOKEN, EventTypes.SUCCESS),
    "Token Introspection Success": (2020, EventCategories.TOKEN, EventTypes.SUCCESS),
    "Token Introspection Failure": (2021, EventCategories.TOKEN, EventTypes.FAILURE),
    "Unhandled Exception": (3000, EventCategories.ERROR, EventTypes.ERROR),
    "Invalid Client Configuration": (3001, EventCategories.ERROR, EventTypes.ERROR),
    "Consent granted": (4000, EventCategories.GRANTS, EventTypes.INFORMATION),
    "Consent denied": (4001, EventCategories.GRANTS, EventTypes.INFORMATION),
    "Grants revoked": (4002, EventCategories.GRANTS, EventTypes.INFORMATION),
    "Device Authorization Success": (5000, EventCategories.DEVICE_FLOW, EventTypes.SUCCESS),
    "Device Authorization Failure": (5001, EventCategories.DEVICE_FLOW, EventTypes.FAILURE),
    "Backchannel Authentication Success": (
        6000,
        EventCategories.BACKCHANNEL_AUTHENTICATION,
        EventTypes.SUCCESS,
    ),
    "Backchannel Authentication Failure": (
        6001,
        EventCategories.BACKCHANNEL_AUTHENTICATION,
        EventTypes.FAILURE,
    ),
}

EVENT_NAMES = tuple(_CATALOGUE)


def event_type_of(name: str) -> EventTypes:
    return _CATALOGUE[name][2]


def create_event(name: str, message: str | None = None, **details: Any) -> Event:
    """Create a catalogued event by its IdentityServer name, e.g. ``"Token Issued Success"``."""
    event_id, category, event_type = _CATALOGUE[name]
    clean = {key: value for key, value in details.items() if value is not None}
    return Event(category, name, event_type, event_id, message, clean)
