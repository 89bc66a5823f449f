"""Shared helpers of the security tests (docs/security.md, ../shared/reference/security.md): servers built from
the canonical test configuration plus extra TOML, a second browser with its own address and cookies, tokens signed
with this server's own key, and the assertions about where a browser is sent."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.crypto.jwt import encode_jws
from identityserver.hosting.app import create_app
from identityserver.models.sessions import SessionFilter
from identityserver.options import IdentityServerOptions
from identityserver.services.user_session import SESSION_COOKIE, SessionTicket
from identityserver.ui import create_ui
from tests.support.browser import redirect_parameters
from tests.support.clock import FakeClock
from tests.support.data import test_configuration
from tests.support.quick import quick_builder
from tests.support.server import ISSUER, Server

ADDRESS = "203.0.113.7"


@dataclass
class Served(Server):
    """A running in-process server that can open more browsers (each with its own cookies and address)."""

    app: Any = None

    @contextlib.asynccontextmanager
    async def browser(self, address: str = ADDRESS) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=self.app, client=(address, 50001))
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
            yield client

    async def submit_as_rendered(self, action: str, fields: list[tuple[str, str]], cookie: str) -> httpx.Response:
        """One submission of a form as the browser that rendered it sends it: with that browser's cookies of the
        moment (``cookie``, a ``Cookie`` header), from a client without a cookie jar, so that no answer changes what
        the next submission carries (a double-click sends the second before the first answer arrives)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        async with self.browser() as client:
            return await client.post(action, content=urlencode(fields), headers=headers)


def cookie_header(cookies: httpx.Cookies) -> str:
    """A ``Cookie`` header of every cookie in the jar."""
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


async def session_in(server: Server, cookies: httpx.Cookies) -> SessionTicket:
    """The live session that the session cookie among ``cookies`` names (an answer's, a browser's)."""
    ticket = await server.services.user_session.authenticate({SESSION_COOKIE: cookies[SESSION_COOKIE]})
    assert ticket is not None
    return ticket


async def server_side_session_keys(server: Server, subject_id: str) -> list[str]:
    """The keys of the user's rows in the server-side session store."""
    store = server.services.server_side_sessions
    assert store is not None
    return [session.key for session in await store.get_sessions(SessionFilter(subject_id=subject_id))]


@contextlib.asynccontextmanager
async def serve(builder: IdentityServerBuilder) -> AsyncIterator[Served]:
    """Like ``tests.support.server.running`` but keeps the ASGI app for more browsers and runs the shutdown steps
    (closing database connections) at the end."""
    services = builder.build()
    for step in services.startup:
        await step()
    app = create_app(services, create_ui(services))
    transport = httpx.ASGITransport(app=app, client=(ADDRESS, 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
            clock = builder.clock
            assert isinstance(clock, FakeClock)
            yield Served(services, client, clock, services.options.issuer_uri or ISSUER, app)
    finally:
        await services.backchannel_logout.drain()
        for step in services.shutdown:
            await step()


async def builder_with(
    extra_toml: str = "",
    configure: Callable[[IdentityServerBuilder], object] | None = None,
    **options: Any,
) -> IdentityServerBuilder:
    """The canonical configuration with ``extra_toml`` first, option fields replaced, then ``configure``."""
    builder = await quick_builder(test_configuration(extra_toml))
    if options:
        builder.options = replace(builder.options, **options)
    if configure is not None:
        configure(builder)
    return builder


@contextlib.asynccontextmanager
async def server_with(
    extra_toml: str = "",
    configure: Callable[[IdentityServerBuilder], object] | None = None,
    **options: Any,
) -> AsyncIterator[Served]:
    async with serve(await builder_with(extra_toml, configure, **options)) as server:
        yield server


def options_with(**fields: Any) -> IdentityServerOptions:
    return replace(test_configuration().options, **fields)


async def signed_like_this_server(server: Server, header: dict[str, Any] | None = None, **claims: Any) -> str:
    """A JWT signed with this server's current signing key (``typ`` and claims chosen by the test)."""
    key = await server.services.key_material.get_signing_credentials()
    now = int(server.clock.timestamp())
    payload = {"iss": server.issuer, "iat": now, "nbf": now, "exp": now + 3600, **claims}
    payload = {k: v for k, v in payload.items() if v is not ...}
    return encode_jws({"alg": key.algorithm, "kid": key.id, **(header or {})}, payload, key.private_key)


async def assert_error_page(server: Server, response: httpx.Response) -> str:
    """``response`` sends the browser to this server's error page and nowhere else; returns the page text."""
    assert response.status_code == 302, (response.status_code, response.text[:300])
    location = response.headers["location"]
    parts = urlsplit(location)
    assert parts.netloc in ("", "idp.example"), location
    assert parts.path == "/home/error", location
    assert set(parse_qs(parts.query)) == {"errorId"}, location
    page = await server.client.get(location)
    assert page.status_code == 400
    return page.text


def assert_client_redirect(server: Server, response: httpx.Response, redirect_uri: str) -> dict[str, str]:
    """A redirect to exactly ``redirect_uri`` (query or fragment) carrying ``iss``; returns its parameters."""
    assert response.status_code == 302, (response.status_code, response.text[:300])
    location = response.headers["location"]
    assert location.startswith((redirect_uri + "?", redirect_uri + "#")), location
    params = redirect_parameters(response)
    assert params["iss"] == server.issuer
    return params


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
