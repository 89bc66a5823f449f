"""A server on the SQL stores (``create_builder`` on a state directory) that disposes of its database when done."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from identityserver.configuration.builder import IdentityServerBuilder
from tests.support.server import Server, running


@contextlib.asynccontextmanager
async def running_sql(builder: IdentityServerBuilder) -> AsyncIterator[Server]:
    async with running(builder) as server:
        try:
            yield server
        finally:
            for step in server.services.shutdown:
                await step()
