"""Background jobs of the host (Duende ``TokenCleanupHost``): the periodic token cleanup, first run one interval
after start-up, then every ``token_cleanup_interval`` seconds; a failing run is logged and the loop goes on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from identityserver.options import OperationalStoreOptions
from identityserver.stores.protocols import TokenCleanupService
from identityserver.telemetry import CLEANUP_RUNS

logger = logging.getLogger("identityserver.token_cleanup")


def token_cleanup_job(
    factory: Callable[[], TokenCleanupService],
    options: OperationalStoreOptions,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Callable[[], Awaitable[None]]:
    """A coroutine function for ``builder.add_background_job``. ``factory`` is called once when the job starts,
    so that the service is built in the worker process that runs it."""

    async def run() -> None:
        service = factory()
        while True:
            await sleep(options.token_cleanup_interval)
            try:
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
) -> Callable[[], Awaitable[None]]:
    """A coroutine function for ``Services.background`` that runs ``step`` every ``interval`` seconds (first
    one interval after start-up); a failing run is logged and the loop goes on. Used for rows that must go
    whether or not token cleanup is on (login throttle failures, ended cookie sessions)."""
    log = logging.getLogger("identityserver.background")

    async def run() -> None:
        while True:
            await sleep(interval)
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; next run in %s s", name, interval)

    return run
