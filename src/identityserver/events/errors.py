"""Error events (Duende ``UnhandledExceptionEvent``, ``InvalidClientConfigurationEvent``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from identityserver.events.base import Event, EventCategories, EventTypes


@dataclass(slots=True, kw_only=True)
class UnhandledExceptionEvent(Event):
    id: ClassVar[int] = 3000
    category: ClassVar[str] = EventCategories.ERROR
    event_type: ClassVar[EventTypes] = EventTypes.ERROR
    name: ClassVar[str] = "Unhandled Exception"

    details: str
    """The exception's type and text (no traceback: that goes to the log, not to event consumers)."""
    endpoint: str | None = None

    @classmethod
    def from_exception(cls, error: BaseException, endpoint: str | None = None) -> UnhandledExceptionEvent:
        return cls(details=f"{type(error).__name__}: {error}", endpoint=endpoint)


@dataclass(slots=True, kw_only=True)
class InvalidClientConfigurationEvent(Event):
    """``message`` says what is wrong with the client's configuration."""

    id: ClassVar[int] = 3001
    category: ClassVar[str] = EventCategories.ERROR
    event_type: ClassVar[EventTypes] = EventTypes.ERROR
    name: ClassVar[str] = "Invalid Client Configuration"

    client_id: str
    client_name: str | None = None
