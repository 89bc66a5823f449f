"""Controllable clocks: the wall clock of ``Clock`` and a monotonic one (``identityserver.clock.monotonic``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)

    def utc_now(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float = 0, **kwargs: float) -> None:
        self.now += timedelta(seconds=seconds, **kwargs)

    def set(self, value: datetime) -> None:
        self.now = value


class FakeMonotonic:
    """Stands for ``identityserver.clock.monotonic`` where a module imported it (``monkeypatch.setattr``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
