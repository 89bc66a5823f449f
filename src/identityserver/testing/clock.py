"""A clock that moves only when told to, for contract tests of time-dependent stores (token cleanup)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


class ManualClock:
    """A ``Clock`` standing at ``start`` until ``advance`` moves it."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def utc_now(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float = 0, **kwargs: float) -> None:
        self.now += timedelta(seconds=seconds, **kwargs)
