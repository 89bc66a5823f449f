"""The ASGI lifespan protocol of the server: start-up steps, background jobs while serving, shutdown steps.

Handled here rather than by Starlette's ``lifespan=``, whose failed start-up hands the server a traceback as its
message: a start-up that refuses on purpose (:class:`SigningKeysUnreadable`, security.md F6) is an operator's
message, and is reported in full on one line; any other failure is logged with its traceback as before."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from identityserver.hosting.health import describe_error
from identityserver.hosting.middleware import ASGIApp, Receive, Scope, Send
from identityserver.hosting.services import Services
from identityserver.services.key_management.key_manager import SigningKeysUnreadable

logger = logging.getLogger("identityserver")

SHUTDOWN_STEP_TIMEOUT = 10.0
"""Seconds each shutdown step (draining back-channel logout deliveries, closing pools) may take."""

REFUSALS: tuple[type[Exception], ...] = (SigningKeysUnreadable,)
"""Start-up failures that are a deliberate refusal with an operator's message: reported without a traceback."""


async def run_shutdown_step(step: Callable[[], Awaitable[None]], seconds: float) -> None:
    # bounded, so that one stuck step (a slow logout receiver) cannot hold the process past its grace period
    name = getattr(step, "__qualname__", repr(step))
    try:
        await asyncio.wait_for(step(), seconds)
    except TimeoutError:
        logger.warning("shutdown step %s did not finish within %g s; abandoned", name, seconds)
    except Exception as error:
        logger.warning("shutdown step %s failed: %s", name, describe_error(error))


class Lifespan:
    """Answers the ``lifespan`` scope for ``app``; every other scope goes to ``app``."""

    def __init__(self, app: ASGIApp, services: Services, shutdown_step_timeout: float = SHUTDOWN_STEP_TIMEOUT):
        self.app = app
        self.services = services
        self.shutdown_step_timeout = shutdown_step_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        await receive()  # lifespan.startup
        try:
            for step in self.services.startup:
                await step()
        except REFUSALS as refusal:
            await send({"type": "lifespan.startup.failed", "message": f"start-up refused: {refusal}"})
            return
        except Exception as error:
            logger.exception("start-up failed")
            await send({"type": "lifespan.startup.failed", "message": f"start-up failed: {describe_error(error)}"})
            return
        except BaseException as error:  # cancelled, or an exit: the server must not serve without its start-up
            await send({"type": "lifespan.startup.failed", "message": f"start-up stopped: {type(error).__name__}"})
            raise
        tasks = [asyncio.ensure_future(job()) for job in self.services.background]
        await send({"type": "lifespan.startup.complete"})
        try:
            await receive()  # lifespan.shutdown
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            try:
                for step in self.services.shutdown:
                    await run_shutdown_step(step, self.shutdown_step_timeout)
            except BaseException as error:
                await send({"type": "lifespan.shutdown.failed", "message": f"shutdown stopped: {type(error).__name__}"})
                raise
        await send({"type": "lifespan.shutdown.complete"})
