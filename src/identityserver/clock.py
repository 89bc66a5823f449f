"""The only module that reads the wall clock (Duende ``ISystemClock``); everything else takes a ``Clock``."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Source of the current time. Inject a fake one in tests."""

    def utc_now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        ...

    def timestamp(self) -> float:
        """Return the current time in seconds since the epoch."""
        ...


class SystemClock:
    """The real clock."""

    def utc_now(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self) -> float:
        return time.time()


def monotonic() -> float:
    """Monotonic seconds, for measuring durations and cache ages (never for token times)."""
    return time.monotonic()
