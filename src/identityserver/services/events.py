"""Event service and the default sink (Duende ``DefaultEventService``, ``DefaultEventSink``)."""

from __future__ import annotations

import json
import logging
import os

from identityserver.clock import Clock
from identityserver.events.base import Event, EventTypes
from identityserver.options import EventsOptions
from identityserver.services.protocols import EventSink

logger = logging.getLogger("identityserver.events")


class LoggingEventSink:
    """Writes each event as one structured (JSON) log line on the ``identityserver.events`` logger."""

    async def persist(self, event: Event) -> None:
        """Log the event as one JSON line (``Event.to_dict``)."""
        logger.info(json.dumps(event.to_dict(), default=str, separators=(",", ":")))


class DefaultEventService:
    """Stamps events and forwards those whose type is enabled in ``EventsOptions`` to the sink."""

    def __init__(self, options: EventsOptions, sink: EventSink, clock: Clock) -> None:
        self.options = options
        self.sink = sink
        self.clock = clock
        self._pid = os.getpid()

    def can_raise(self, event_type: EventTypes) -> bool:
        """Whether events of this type are switched on in ``EventsOptions``."""
        if event_type == EventTypes.SUCCESS:
            return self.options.raise_success_events
        if event_type == EventTypes.FAILURE:
            return self.options.raise_failure_events
        if event_type == EventTypes.INFORMATION:
            return self.options.raise_information_events
        return self.options.raise_error_events

    async def raise_event(self, event: Event, remote_ip: str | None = None) -> None:
        """Stamp ``event`` (time, process, the caller's address) and hand it to the sink if its type is enabled."""
        if not self.can_raise(event.event_type):
            return
        event.timestamp = self.clock.utc_now().isoformat()
        event.process_id = self._pid
        if remote_ip is not None:
            event.remote_ip_address = remote_ip
        try:
            await self.sink.persist(event)
        except Exception:  # a failing sink must never fail the request
            logging.getLogger("identityserver").exception("event sink failed")
