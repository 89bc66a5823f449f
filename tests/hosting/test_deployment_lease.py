"""``DeploymentLease``: of the processes sharing a replay cache, one runs each pass of a periodic job (the
multi-node version is tests/scale_out/test_background_lease.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from identityserver.hosting.background import DeploymentLease, periodic_job, token_cleanup_job
from identityserver.options import OperationalStoreOptions
from identityserver.stores.in_memory.replay_cache import InMemoryReplayCache
from tests.support.clock import FakeClock


def two_processes() -> tuple[FakeClock, DeploymentLease, DeploymentLease]:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    shared = InMemoryReplayCache()
    return clock, DeploymentLease(shared, clock), DeploymentLease(shared, clock)


async def test_one_process_claims_each_slot_and_the_next_slot_is_free_again():
    clock, first, second = two_processes()
    assert await first.claim("token cleanup", 60)
    assert not await second.claim("token cleanup", 60)
    assert not await first.claim("token cleanup", 60)
    assert await second.claim("login throttle cleanup", 60)  # each job has its own lease
    clock.advance(60)
    assert await second.claim("token cleanup", 60)
    assert not await first.claim("token cleanup", 60)


async def test_a_periodic_job_skips_the_pass_another_process_claimed():
    clock, first, second = two_processes()
    runs: list[float] = []

    async def step() -> None:
        runs.append(clock.timestamp())

    async def sleep(seconds: float) -> None:
        if len(runs) >= 2:
            raise asyncio.CancelledError
        clock.advance(seconds)

    clock.advance(60)
    assert await second.claim("ended session cleanup", 60)  # the slot of the first pass
    clock.advance(-60)
    with pytest.raises(asyncio.CancelledError):
        await periodic_job("ended session cleanup", step, 60, sleep, lease=first)()
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert runs == [start + 120, start + 180]


async def test_token_cleanup_runs_only_the_passes_it_claimed():
    clock, first, second = two_processes()
    calls: list[str] = []

    class Service:
        async def cleanup_grants(self) -> None:
            calls.append("run")

    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) > 3:
            raise asyncio.CancelledError
        clock.advance(seconds)

    assert await second.claim("token cleanup", 60)  # the other process took the current slot
    options = OperationalStoreOptions(enable_token_cleanup=True, token_cleanup_interval=60)
    clock.advance(-60)
    with pytest.raises(asyncio.CancelledError):
        await token_cleanup_job(Service, options, sleep, lease=first)()
    assert calls == ["run", "run"]  # three passes, the first of which was the other process's
