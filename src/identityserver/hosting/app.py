"""``create_app(services)``: the ASGI application (Duende ``app.UseIdentityServer()``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from identityserver.hosting.client_certificates import ClientCertificateMiddleware
from identityserver.hosting.forwarded import ForwardedHeadersMiddleware
from identityserver.hosting.health import HealthEndpoints, describe_error
from identityserver.hosting.host_filter import AllowedHostsMiddleware
from identityserver.hosting.middleware import ASGIApp, IdentityServerMiddleware
from identityserver.hosting.services import Services
from identityserver.hosting.telemetry import RequestTelemetry

logger = logging.getLogger("identityserver")


async def _not_found(request: Request) -> Response:
    return PlainTextResponse("Not Found", status_code=404)


SHUTDOWN_STEP_TIMEOUT = 10.0
"""Seconds each shutdown step (draining back-channel logout deliveries, closing pools) may take."""


async def _run_shutdown_step(step: Callable[[], Awaitable[None]], seconds: float) -> None:
    # bounded, so that one stuck step (a slow logout receiver) cannot hold the process past its grace period
    name = getattr(step, "__qualname__", repr(step))
    try:
        await asyncio.wait_for(step(), seconds)
    except TimeoutError:
        logger.warning("shutdown step %s did not finish within %g s; abandoned", name, seconds)
    except Exception as error:
        logger.warning("shutdown step %s failed: %s", name, describe_error(error))


def create_app(
    services: Services, ui: ASGIApp | None = None, *, shutdown_step_timeout: float = SHUTDOWN_STEP_TIMEOUT
) -> ASGIApp:
    """The protocol endpoints in front of ``ui`` (the login/consent pages; a 404 app when ``None``), behind the
    health probes and the forwarded-headers handling (``options.forwarded_headers``)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for step in services.startup:
            await step()
        tasks = [asyncio.ensure_future(job()) for job in services.background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for step in services.shutdown:
                await _run_shutdown_step(step, shutdown_step_timeout)

    inner = ui or Starlette(routes=[Route("/{path:path}", _not_found)])
    app = Starlette(lifespan=lifespan, routes=[])
    app.mount("/", inner)
    protocol: ASGIApp = IdentityServerMiddleware(
        app, services.router, services.options, services.cors, services.events, services.writers
    )
    if services.options.telemetry.enabled:
        protocol = RequestTelemetry(protocol, services.router)
    if not services.options.issuer_uri:
        protocol = AllowedHostsMiddleware(protocol, services.options)
    served: ASGIApp = HealthEndpoints(protocol, services.health_checks)
    if services.options.mutual_tls.enabled:  # inside the forwarded headers: it needs the real peer and host
        served = ClientCertificateMiddleware(served, services.options.mutual_tls)
    # outermost, so that telemetry, the protocol endpoints and the UI all see the forwarded client
    return ForwardedHeadersMiddleware(served, services.options.forwarded_headers)
