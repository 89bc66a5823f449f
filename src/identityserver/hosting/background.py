"""Background jobs of the host (Duende ``TokenCleanupHost``): the periodic token cleanup, first run one interval
after start-up, then every ``token_cleanup_interval`` seconds; a failing run is logged and the loop goes on.

Every worker of every node runs these loops, but with a ``DeploymentLease`` only one process runs each pass:
the pass of a time slot (``interval`` seconds long) belongs to the first process that records it in the shared
replay cache (the database's ``IdentityServerReplayCache``, or Redis), the others skip it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from identityserver.clock import Clock
from identityserver.options import OperationalStoreOptions
from identityserver.stores.protocols import ReplayCache, TokenCleanupService
from identityserver.telemetry import CLEANUP_RUNS

logger = logging.getLogger("identityserver.token_cleanup")
LEASE_PURPOSE = "background-lease"


class DeploymentLease:
    """Claims the pass of a periodic job for one process of the deployment: ``claim`` returns ``True`` to exactly
    one of the processes sharing the replay cache per job and slot of ``interval`` seconds (the slot is the
    wall-clock time divided by the interval, so nodes need agreeing clocks, as token lifetimes do: a PostgreSQL
    deployment's ``SynchronizedClock``, or NTP)."""

    def __init__(self, replay_cache: ReplayCache, clock: Clock) -> None:
        self.replay_cache = replay_cache
        self.clock = clock

    async def claim(self, job: str, interval: float) -> bool:
        slot = int(self.clock.timestamp() // interval) if interval > 0 else 0
        # kept two slots long: a process whose timer fires late must still find the claim of its slot
        claimed = await self.replay_cache.add(LEASE_PURPOSE, f"{job}:{slot}", max(2 * interval, 1.0))
        if claimed:
            logging.getLogger("identityserver.background").info("%s: this process runs the pass of slot %d", job, slot)
        return claimed


async def _claimed(lease: DeploymentLease | None, job: str, interval: float) -> bool:
    return lease is None or await lease.claim(job, interval)


def token_cleanup_job(
    factory: Callable[[], TokenCleanupService],
    options: OperationalStoreOptions,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    lease: DeploymentLease | None = None,
) -> Callable[[], Awaitable[None]]:
    """A coroutine function for ``builder.add_background_job``. ``factory`` is called once when the job starts,
    so that the service is built in the worker process that runs it."""

    async def run() -> None:
        service = factory()
        while True:
            await sleep(options.token_cleanup_interval)
            try:
                if not await _claimed(lease, "token cleanup", options.token_cleanup_interval):
                    continue
                await service.cleanup_grants()
            except asyncio.CancelledError:
                raise
            except Exception:
                CLEANUP_RUNS.add(1, {"outcome": "failure"})
                logger.exception("token cleanup failed; next run in %s s", options.token_cleanup_interval)
            else:
                CLEANUP_RUNS.add(1, {"outcome": "success"})

    return run


def periodic_job(
    name: str,
    step: Callable[[], Awaitable[object]],
    interval: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    lease: DeploymentLease | None = None,
) -> Callable[[], Awaitable[None]]:
    """A coroutine function for ``Services.background`` that runs ``step`` every ``interval`` seconds (first
    one interval after start-up); a failing run is logged and the loop goes on. Used for rows that must go
    whether or not token cleanup is on (login throttle failures, ended cookie sessions)."""
    log = logging.getLogger("identityserver.background")

    async def run() -> None:
        while True:
            await sleep(interval)
            try:
                if not await _claimed(lease, name, interval):
                    continue
                await step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; next run in %s s", name, interval)

    return run
