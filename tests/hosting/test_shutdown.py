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


async def start_only(app: Any) -> tuple[list[dict[str, Any]], BaseException | None]:
    """Send ``lifespan.startup`` alone: the messages the app sent back, and what it raised."""
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await incoming.put({"type": "lifespan.startup"})
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        await asyncio.wait_for(app({"type": "lifespan", "asgi": {"version": "3.0"}}, incoming.get, send), 30)
    except BaseException as error:
        return sent, error
    return sent, None


async def test_a_failing_start_up_step_fails_the_start_in_one_line_and_logs_its_traceback(caplog) -> None:
    async def broken() -> None:
        raise RuntimeError("the cache at 10.0.0.9 refused")

    app = create_app(make_builder().on_startup(broken).build())
    with pregenerated_signing_keys():
        sent, raised = await start_only(app)
    assert raised is None
    assert sent == [
        {"type": "lifespan.startup.failed", "message": "start-up failed: RuntimeError: the cache at 10.0.0.9 refused"}
    ]
    logged = [r for r in caplog.records if r.getMessage() == "start-up failed"]
    assert logged and logged[0].exc_info is not None  # the traceback is in the server's log


async def test_a_start_up_stopped_by_cancellation_is_reported_failed_before_it_propagates() -> None:
    """Never left for the server to read as "lifespan unsupported" (and then serve without the start-up steps)."""

    async def cancelled() -> None:
        raise asyncio.CancelledError

    app = create_app(make_builder().on_startup(cancelled).build())
    with pregenerated_signing_keys():
        sent, raised = await start_only(app)
    assert isinstance(raised, asyncio.CancelledError)
    assert sent == [{"type": "lifespan.startup.failed", "message": "start-up stopped: CancelledError"}]
