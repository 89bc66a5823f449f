"""uvicorn serving an ASGI app on a free port in the test's own event loop, with a chosen HTTP protocol class (the
protocols of ``serve``: cli/http_limits.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

from tests.support.process import free_port


@contextlib.asynccontextmanager
async def serving(app: Any, http: type, **settings: Any) -> AsyncIterator[int]:
    """The port uvicorn serves ``app`` on with protocol ``http`` and ``settings`` (``uvicorn.Config``'s); the
    server is shut down on exit."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=http,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
        **settings,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        yield port
    finally:
        server.should_exit = True
        await task
