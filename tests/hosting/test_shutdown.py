"""The lifespan's shutdown: background jobs cancelled, then every shutdown step (back-channel logout deliveries
first, then the stores), each bounded so that one stuck step cannot hold the process past its grace period."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from identityserver.hosting.app import create_app
from tests.support.keys import pregenerated_signing_keys
from tests.support.server import make_builder


async def run_lifespan(app: Any) -> list[str]:
    """Start the app's lifespan, then stop it; the message types it sent."""
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await incoming.put({"type": "lifespan.startup"})
    sent: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])
        if message["type"] == "lifespan.startup.complete":
            await asyncio.sleep(0.05)  # the background jobs start
            await incoming.put({"type": "lifespan.shutdown"})

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, incoming.get, send)
    return sent


async def test_a_stuck_shutdown_step_is_abandoned_after_its_bound_and_the_rest_still_run() -> None:
    ran: list[str] = []
    cancelled = asyncio.Event()

    async def stuck() -> None:
        ran.append("stuck")
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def failing() -> None:
        ran.append("failing")
        raise RuntimeError("boom")

    async def closes_the_pool() -> None:
        ran.append("closes_the_pool")

    async def background() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            ran.append("background cancelled")
            raise

    builder = make_builder().on_shutdown(stuck).on_shutdown(failing).on_shutdown(closes_the_pool)
    builder.add_background_job(background)
    services = builder.build()
    assert services.shutdown[0] == services.backchannel_logout.drain  # deliveries before the stores close
    app = create_app(services, shutdown_step_timeout=0.3)
    started = time.monotonic()
    with pregenerated_signing_keys():
        sent = await run_lifespan(app)
    assert time.monotonic() - started < 3
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert ran == ["background cancelled", "stuck", "failing", "closes_the_pool"]
    assert cancelled.is_set()


async def test_back_channel_deliveries_in_flight_are_drained_within_the_bound() -> None:
    services = make_builder().build()
    delivered = asyncio.Event()

    async def slow_delivery() -> None:
        await asyncio.sleep(0.1)
        delivered.set()

    # what send_logout_notifications leaves behind: a delivery task the service waits for on drain
    pending: set[asyncio.Task[None]] = services.backchannel_logout._pending  # type: ignore[attr-defined]
    task = asyncio.ensure_future(slow_delivery())
    pending.add(task)
    task.add_done_callback(pending.discard)
    with pregenerated_signing_keys():
        await run_lifespan(create_app(services, shutdown_step_timeout=5))
    assert delivered.is_set()
