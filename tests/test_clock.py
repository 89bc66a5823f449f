"""``SynchronizedClock``: a node's time held to the database server's (security.md F8; docs/scaling.md, "Clocks");
``DeferredClock``.

The host's wall clock, its monotonic clock and the reference are fakes that tests move by hand."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime

import pytest

from identityserver.clock import SAMPLES, DeferredClock, SynchronizedClock
from tests.support.clock import FakeClock

START = 1_800_000_000.0


class Host:
    """The host's two clocks and a reference server whose reading takes ``round_trip`` seconds of the host's."""

    def __init__(self) -> None:
        self.monotonic = 500.0
        self.wall_offset = 0.0
        """How far the host's wall clock is ahead of the true time."""
        self.true_epoch = START - self.monotonic
        self.round_trip = 0.002
        self.failure: Exception | None = None
        self.reads = 0

    def wall(self) -> float:
        return self.monotonic + self.true_epoch + self.wall_offset

    def now_monotonic(self) -> float:
        return self.monotonic

    def advance(self, seconds: float) -> None:
        self.monotonic += seconds

    async def reference(self) -> float:
        self.reads += 1
        if self.failure is not None:
            raise self.failure
        self.advance(self.round_trip / 2)
        reading = self.monotonic + self.true_epoch
        self.advance(self.round_trip / 2)
        return reading

    def true_time(self) -> float:
        return self.monotonic + self.true_epoch

    def clock(self, tolerance: float = 0.5) -> SynchronizedClock:
        return SynchronizedClock(self.reference, tolerance, 10.0, wall=self.wall, monotonic=self.now_monotonic)


async def test_a_host_clock_within_the_tolerance_is_kept():
    host = Host()
    host.wall_offset = 0.3
    clock = host.clock()
    await clock.synchronize()
    assert not clock.following
    assert clock.offset == pytest.approx(-0.3, abs=1e-6)
    assert clock.timestamp() == pytest.approx(host.wall(), abs=1e-6)


@pytest.mark.parametrize("wrong_by", [300.0, -300.0, 0.6])
async def test_a_host_clock_off_by_more_than_the_tolerance_follows_the_reference(wrong_by, caplog):
    host = Host()
    host.wall_offset = wrong_by
    clock = host.clock()
    assert clock.timestamp() == pytest.approx(host.wall())  # before the first synchronization: the host's
    with caplog.at_level(logging.WARNING, "identityserver.clock"):
        await clock.synchronize()
    assert clock.following
    assert clock.timestamp() == pytest.approx(host.true_time(), abs=1e-6)
    assert clock.utc_now() == datetime.fromtimestamp(clock.timestamp(), UTC)
    assert [r.getMessage() for r in caplog.records] == [
        f"this host's clock is {wrong_by:+.3f} s off the database server's: following the database's time until "
        "they agree within 0.5 s (fix the host's time synchronisation)"
    ]
    host.advance(7.5)
    assert clock.timestamp() == pytest.approx(host.true_time(), abs=1e-6)


async def test_a_step_of_the_host_clock_is_not_followed_and_the_next_synchronization_corrects_it(caplog):
    host = Host()
    clock = host.clock()
    await clock.synchronize()
    assert not clock.following
    host.wall_offset = 300.0  # the host's clock jumps five minutes ahead
    host.advance(4.0)
    assert clock.timestamp() == pytest.approx(host.true_time(), abs=1e-6)
    with caplog.at_level(logging.WARNING, "identityserver.clock"):
        await clock.synchronize()
        assert clock.following and clock.timestamp() == pytest.approx(host.true_time(), abs=1e-6)
        await clock.synchronize()  # still off by as much: no second warning
        host.wall_offset = 0.0
        await clock.synchronize()
    assert not clock.following
    assert clock.timestamp() == pytest.approx(host.true_time(), abs=1e-6)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert messages[0].startswith("this host's clock is +300.000 s off the database server's: following")
    assert messages[1].startswith("this host's clock agrees with the database server's again (")


async def test_the_reading_with_the_shortest_round_trip_is_used():
    host = Host()
    host.wall_offset = 10.0
    round_trips = iter([0.8, 0.001, 0.4])
    inner = host.reference

    async def uneven() -> float:
        host.round_trip = next(round_trips)
        return await inner()

    clock = SynchronizedClock(uneven, 0.5, 10.0, wall=host.wall, monotonic=host.now_monotonic)
    await clock.synchronize()
    assert host.reads == SAMPLES == 3
    assert clock.timestamp() == pytest.approx(host.true_time(), abs=1e-6)
    assert clock.offset == pytest.approx(-10.0, abs=1e-6)


async def test_an_uncertain_reading_is_not_taken_for_an_offset():
    """A round trip of 2 s leaves the reference's reading a second uncertain: 1.2 s off is within it."""
    host = Host()
    host.wall_offset = 1.2
    host.round_trip = 2.0
    clock = host.clock()
    await clock.synchronize()
    assert not clock.following


async def test_a_failed_read_keeps_the_time_and_is_logged_once(caplog):
    host = Host()
    host.wall_offset = 300.0
    clock = host.clock()
    await clock.synchronize()
    host.failure = ConnectionRefusedError("the database is down")
    caplog.clear()
    with caplog.at_level(logging.WARNING, "identityserver.clock"):
        await clock.try_synchronize()
        await clock.try_synchronize()
        with pytest.raises(ConnectionRefusedError):
            await clock.synchronize()
    assert clock.following
    host.advance(60)
    assert clock.timestamp() == pytest.approx(host.true_time(), abs=1e-6)
    assert [r.getMessage() for r in caplog.records] == [
        "could not read the database server's time (the database is down); keeping this clock"
    ]
    host.failure = None
    await clock.try_synchronize()
    host.failure = OSError("again")
    with caplog.at_level(logging.WARNING, "identityserver.clock"):
        await clock.try_synchronize()
    assert len(caplog.records) == 2  # logged again after a success


async def test_run_synchronizes_every_interval(monkeypatch):
    host = Host()
    host.wall_offset = 300.0
    clock = SynchronizedClock(host.reference, 0.5, 10.0, wall=host.wall, monotonic=host.now_monotonic)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) > 2:
            raise asyncio.CancelledError

    monkeypatch.setattr("identityserver.clock.asyncio.sleep", sleep)
    with pytest.raises(asyncio.CancelledError):
        await clock.run()
    assert sleeps == [10.0, 10.0, 10.0]
    assert host.reads == 2 * SAMPLES
    assert clock.following


async def test_a_reading_near_the_line_keeps_the_state_and_one_too_uncertain_changes_nothing(caplog):
    """Hysteresis: a host 0.7 s off follows the reference; readings that cannot tell 0.7 from 0.5 (round trips of
    0.4 s) keep it following, and one slower than the tolerance (a loaded event loop) is not used at all."""
    host = Host()
    host.wall_offset = 0.7
    clock = host.clock()
    await clock.synchronize()
    assert clock.following
    caplog.clear()
    host.round_trip = 0.4
    await clock.synchronize()
    assert clock.following and clock.timestamp() == pytest.approx(host.true_time(), abs=0.21)
    host.wall_offset = 0.4  # NTP pulled the host back; a reading of 0.4 s cannot tell 0.4 from 0.6 either
    await clock.synchronize()
    assert clock.following
    host.round_trip = 0.9  # slower than the tolerance: nothing changes, not even the anchor
    host.wall_offset = 30.0
    before = clock.timestamp() - host.true_time()
    await clock.synchronize()
    assert clock.following and clock.timestamp() - host.true_time() == pytest.approx(before, abs=1e-6)
    assert caplog.records == []
    host.round_trip = 0.002
    host.wall_offset = 0.2
    await clock.synchronize()  # a clear reading within the tolerance: back to the host's clock
    assert not clock.following
    assert [r.getMessage()[:57] for r in caplog.records] == [
        "this host's clock agrees with the database server's again"
    ]


async def test_start_tries_twice_a_second_apart_then_keeps_the_host_clock(monkeypatch):
    host = Host()
    host.wall_offset = 300.0
    host.failure = ConnectionRefusedError("not yet")
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    monkeypatch.setattr("identityserver.clock.asyncio.sleep", sleep)
    clock = host.clock()
    await clock.start()
    assert sleeps == [1.0] and host.reads == 2 and not clock.following
    assert clock.timestamp() == pytest.approx(host.wall(), abs=1e-6)
    host.failure = None
    await clock.start()  # succeeds at once: no second try
    assert sleeps == [1.0] and clock.following


async def test_a_small_step_back_holds_the_time_until_the_new_anchor_reaches_it():
    """A host 0.7 s behind follows the reference; once NTP brings it within the tolerance (0.3 s behind), the
    clock goes back to the host's time, 0.3 s earlier: it stands still for those 0.3 s instead of running back."""
    host = Host()
    host.wall_offset = -0.7
    clock = host.clock()
    await clock.synchronize()
    assert clock.following
    host.wall_offset = -0.3
    await clock.synchronize()
    assert not clock.following
    before = host.true_time()  # what the clock read as it re-anchored (it followed the true time)
    assert clock.timestamp() == pytest.approx(before, abs=1e-6)
    host.advance(0.25)
    assert clock.timestamp() == pytest.approx(before, abs=1e-6)
    host.advance(0.1)
    assert clock.timestamp() == pytest.approx(host.wall(), abs=1e-6)
    assert clock.timestamp() > before


async def test_the_first_read_and_a_large_step_back_set_the_time_at_once():
    """A node that started on a clock 0.8 s ahead (its first reads failed) takes the reference's time at the first
    read that succeeds; later, the reference's own clock set back by five minutes is taken at once too: standing
    still that long would date everything alike."""
    host = Host()
    host.wall_offset = 0.8
    host.failure = ConnectionRefusedError("not yet")
    clock = host.clock()
    await clock.try_synchronize()
    assert clock.timestamp() == pytest.approx(host.wall(), abs=1e-6)
    host.failure = None
    await clock.synchronize()
    assert clock.following
    assert clock.timestamp() == pytest.approx(host.true_time(), abs=1e-6)
    host.wall_offset = 0.0
    await clock.synchronize()
    assert not clock.following
    host.true_epoch -= 300.0  # the database server's clock (and, by NTP, this host's) set back five minutes
    await clock.synchronize()
    assert clock.timestamp() == pytest.approx(host.true_time(), abs=1e-6)
    host.advance(1.0)
    assert clock.timestamp() == pytest.approx(host.true_time(), abs=1e-6)


async def test_the_time_never_runs_back_across_synchronizations_near_the_line():
    """Round trips and host offsets that flip the clock between the host's time and the reference's, and move each
    anchor by half a round trip: every reading is at least the one before."""
    rng = random.Random(15)
    host = Host()
    clock = host.clock()
    last = clock.timestamp()
    for _ in range(1000):
        host.round_trip = rng.uniform(0.0, 0.45)
        host.wall_offset = rng.choice([-1.0, 1.0]) * rng.uniform(0.0, 0.9)
        await clock.synchronize()
        for _ in range(5):
            now = clock.timestamp()
            assert now >= last
            assert abs(now - host.true_time()) <= 0.5 + 0.45  # the tolerance and half a round trip, or a hold
            last = now
            host.advance(rng.uniform(0.0, 2.0))


def test_a_deferred_clock_reads_whichever_clock_is_current():
    first, second = FakeClock(), FakeClock(datetime(2030, 1, 1, tzinfo=UTC))
    current = [first]
    clock = DeferredClock(lambda: current[0])
    assert clock.utc_now() == first.utc_now() and clock.timestamp() == first.timestamp()
    current[0] = second
    assert clock.utc_now() == second.utc_now() and clock.timestamp() == second.timestamp()
