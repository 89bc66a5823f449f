"""An in-process server: real ``Services`` and ASGI app, driven over httpx's ASGI transport."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import httpx

from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.configuration.loader import Configuration
from identityserver.hosting.app import create_app
from identityserver.hosting.services import Services
from identityserver.options import IdentityServerOptions
from identityserver.ui import create_ui
from tests.support.clock import FakeClock
from tests.support.data import test_configuration
from tests.support.keys import pregenerated_signing_keys

ISSUER = "https://idp.example"


@dataclass
class Server:
    services: Services
    client: httpx.AsyncClient
    clock: FakeClock
    issuer: str

    async def token(
        self, data: dict[str, Any], auth: tuple[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.post("/connect/token", data=data, auth=auth, headers=headers)


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def make_builder(
    config: Configuration | None = None,
    clock: FakeClock | None = None,
    options: IdentityServerOptions | None = None,
    issuer: str | None = ISSUER,
) -> IdentityServerBuilder:
    config = config or test_configuration()
    opts = options or config.options
    if issuer is not None:
        opts = replace(opts, issuer_uri=issuer)
    builder = IdentityServerBuilder(opts)
    builder.set_clock(clock or FakeClock())
    builder.add_in_memory_clients(config.clients)
    builder.add_in_memory_identity_resources(config.identity_resources)
    builder.add_in_memory_api_scopes(config.api_scopes)
    builder.add_in_memory_api_resources(config.api_resources)
    if config.users:
        builder.add_test_users(config.users)
    return builder


@contextlib.asynccontextmanager
async def running(builder: IdentityServerBuilder, base_url: str = ISSUER) -> AsyncIterator[Server]:
    """Build and start the server. A key created at start-up reuses the session's key material
    (``tests.support.keys``), so starting costs no RSA key generation."""
    services = builder.build()
    with pregenerated_signing_keys():
        for step in services.startup:
            await step()
    app = create_app(services, create_ui(services))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        clock = builder.clock
        assert isinstance(clock, FakeClock)
        yield Server(services, client, clock, services.options.issuer_uri or base_url)
