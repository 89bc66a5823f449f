"""The only module that reads the wall clock (Duende ``ISystemClock``); everything else takes a ``Clock``."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

_logger = logging.getLogger("identityserver.clock")

SAMPLES = 3
"""Reads of the reference clock a synchronization takes (``SynchronizedClock``)."""


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


_since_boot: Callable[[], float] = functools.partial(
    time.clock_gettime, getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)
)
"""Seconds on a steady clock that, unlike ``time.monotonic`` on Linux, also counts while the host is suspended."""


class SynchronizedClock:
    """A process's clock held to a reference shared by every node (the PostgreSQL server's, docs/scaling.md
    "Clocks"), so that times one node writes (a code's creation, a nonce, a device's last poll, a key's creation)
    mean the same on every other node even when one host's clock is wrong (security.md F8).

    Time runs on a steady clock (the time since boot) from an anchor set at each ``synchronize``: to this host's
    wall clock while it agrees with the reference within ``tolerance`` seconds, else to the reference (logged).
    So a step of the host's clock changes nothing until the next synchronization, which then finds it.

    Time never runs back by the small steps of re-anchoring (half a round trip; a host's clock that moved within
    ``tolerance``, from one side of the reference to the other; the offset, at most ``tolerance``, when the host's
    clock agrees again): it stands still until the new anchor reaches it, so that nothing dated later on this
    node is dated earlier. The first successful read sets the time outright, and a larger step back (the
    reference's own clock set back) is taken at once: standing still that long would date everything alike."""

    def __init__(
        self,
        reference: Callable[[], Awaitable[float]],
        tolerance: float = 0.5,
        interval: float = 10.0,
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = _since_boot,
    ) -> None:
        self._reference = reference
        self.tolerance = tolerance
        self.interval = interval
        self._wall = wall
        self._monotonic = monotonic
        self._epoch = wall() - monotonic()
        self.offset = 0.0
        """The reference's time minus this host's, at the last synchronization that counted."""
        self.following = False
        """Whether the time is the reference's (the host's clock is more than ``tolerance`` off it)."""
        self._failing = False
        self._held = 0.0
        """The time before the last re-anchoring stepped back: the clock reads no earlier until it passes it."""
        self._synchronized = False
        """Whether a read of the reference has set the time (the first one sets it outright)."""

    def utc_now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def timestamp(self) -> float:
        now = self._monotonic() + self._epoch
        return now if now >= self._held else self._held

    async def synchronize(self) -> None:
        """Read the reference and re-anchor; raises what the reference raises, keeping the anchor before.

        Of ``SAMPLES`` reads the one with the shortest round trip counts: its reading is the least uncertain (the
        first of a process also opens the connection). A reading whose round trip is longer than ``tolerance``
        (a loaded event loop, a pool queue) changes nothing. The state changes only on a clear reading: to the
        reference when the offset exceeds ``tolerance`` by more than half the round trip, back to the host's
        clock when it is within ``tolerance`` by as much; in between the state stays, so that readings near the
        line do not flip the time back and forth."""
        round_trip, reference, middle = min([await self._sample() for _ in range(SAMPLES)])
        if round_trip > self.tolerance:
            return
        system = self._wall() - (self._monotonic() - middle)
        offset = reference - system
        uncertainty = round_trip / 2
        following = self.following
        if abs(offset) - uncertainty > self.tolerance:
            following = True
        elif abs(offset) + uncertainty <= self.tolerance:
            following = False
        now = self._monotonic()
        before = now + self._epoch
        self._epoch = (reference if following else system) - middle
        step_back = before - (now + self._epoch)
        if step_back > 2 * self.tolerance + round_trip or not self._synchronized:
            self._held = 0.0
        elif step_back > 0:
            self._held = max(self._held, before)
        self._synchronized = True
        if following and (not self.following or abs(offset - self.offset) > self.tolerance):
            _logger.warning(
                "this host's clock is %+.3f s off the database server's: following the database's time until "
                "they agree within %g s (fix the host's time synchronisation)",
                -offset,
                self.tolerance,
            )
        elif self.following and not following:
            _logger.warning("this host's clock agrees with the database server's again (%+.3f s)", -offset)
        self.offset, self.following = offset, following

    async def _sample(self) -> tuple[float, float, float]:
        """(round trip, the reference's reading, the steady clock halfway through the round trip, about when the
        reference was read)."""
        start = self._monotonic()
        reading = await self._reference()
        end = self._monotonic()
        return end - start, reading, (start + end) / 2

    async def try_synchronize(self) -> None:
        """``synchronize``, logging a failed read (once until one succeeds) instead of raising it: the time
        then keeps running from the anchor it had (the host's clock, before any read succeeded)."""
        try:
            await self.synchronize()
        except Exception as error:
            if not self._failing:
                _logger.warning("could not read the database server's time (%s); keeping this clock", error)
            self._failing = True
            return
        self._failing = False

    async def start(self) -> None:
        """The first synchronization, before the process dates anything (the host's first start-up step): one
        retry a second later, then on with the host's clock (logged) and the background job's reads."""
        await self.try_synchronize()
        if self._failing:
            await asyncio.sleep(1.0)
            await self.try_synchronize()

    async def run(self) -> None:
        """Synchronize every ``interval`` seconds until cancelled (a background job of the host)."""
        while True:
            await asyncio.sleep(self.interval)
            await self.try_synchronize()


class DeferredClock:
    """Whatever clock ``current()`` returns at each call: for what is built before the clock is chosen (the
    database's start-up step, made before the database that a ``SynchronizedClock`` reads exists)."""

    def __init__(self, current: Callable[[], Clock]) -> None:
        self._current = current

    def utc_now(self) -> datetime:
        return self._current().utc_now()

    def timestamp(self) -> float:
        return self._current().timestamp()
