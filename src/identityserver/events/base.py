"""The event base type (Duende ``Event``, ``EventTypes``, ``EventCategories``).

Each event type is a dataclass subclass whose id, category, type and name are class constants, so that sinks can
match on the class (``case TokenIssuedSuccessEvent(client_id=...)``). Secrets never go into events: tokens appear
only obfuscated (``obfuscate``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar


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


_BASE_FIELDS = frozenset({"message", "timestamp", "process_id", "remote_ip_address"})


def obfuscate(value: str) -> str:
    """What an event may show of a token: its last four characters."""
    return "****" + (value[-4:] if len(value) > 4 else "****")


def _pascal(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _json(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_json(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_pascal(f.name): _json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


@dataclass(slots=True, kw_only=True)
class Event:
    """One event. Subclasses set the class constants and add typed fields for their details.

    The service fills ``timestamp``, ``process_id`` and ``remote_ip_address`` when it raises the event."""

    id: ClassVar[int]
    category: ClassVar[str]
    event_type: ClassVar[EventTypes]
    name: ClassVar[str]
    #: Detail fields whose JSON key is not the PascalCase of the field name; sinks have always seen these keys.
    json_keys: ClassVar[Mapping[str, str]] = {"client_id": "client_id"}

    message: str | None = None
    timestamp: str | None = None
    process_id: int | None = None
    remote_ip_address: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The event as the logging sink writes it; details that are ``None`` are left out."""
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
        for detail in dataclasses.fields(self):
            value = getattr(self, detail.name)
            if detail.name not in _BASE_FIELDS and value is not None:
                data[self.json_keys.get(detail.name) or _pascal(detail.name)] = _json(value)
        return data
