"""``create_app(services)``: the ASGI application (Duende ``app.UseIdentityServer()``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from identityserver.hosting.middleware import ASGIApp, IdentityServerMiddleware
from identityserver.hosting.services import Services

logger = logging.getLogger("identityserver")


async def _not_found(request: Request) -> Response:
    return PlainTextResponse("Not Found", status_code=404)


def create_app(services: Services, ui: ASGIApp | None = None) -> ASGIApp:
    """The protocol endpoints in front of ``ui`` (the login/consent pages; a 404 app when ``None``)."""

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
                with contextlib.suppress(Exception):
                    await step()

    inner = ui or Starlette(routes=[Route("/{path:path}", _not_found)])
    app = Starlette(lifespan=lifespan, routes=[])
    app.mount("/", inner)
    return IdentityServerMiddleware(
        app, services.router, services.options, services.cors, services.events, services.writers
    )
