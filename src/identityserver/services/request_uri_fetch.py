"""Fetching a request object by reference (RFC 9101 §5.2; OIDC Core §6.2) through the outgoing-call guards: the
URL is one the client registered, but the server makes the call, so it is an SSRF vector."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from identityserver._utils.egress import PinnedTarget, Resolver, pin_public_address
from identityserver.constants import AuthorizeErrors, JwtTypes

if TYPE_CHECKING:
    import httpx


@dataclass(slots=True)
class RequestUriError:
    """Why a ``request_uri`` cannot be used: the authorize error code and its description."""

    error: str
    description: str


class JwtRequestUriFetcher:
    """GETs a request object from a registered ``request_uri`` (Duende's ``JwtRequestUriHttpClient``): https to
    public addresses only unless ``allow_private_network``, no redirects, ``timeout`` seconds, ``max_length``
    bytes; with ``strict`` the response must be ``application/oauth-authz-req+jwt`` (RFC 9101 §5.2)."""

    def __init__(
        self,
        client_factory: Callable[[], httpx.AsyncClient] | None = None,
        max_length: int = 51200,
        timeout: float = 10.0,
        allow_private_network: bool = False,
        strict: bool = False,
        resolve: Resolver | None = None,
    ) -> None:
        self.resolve = resolve
        """How host names are resolved (``None``: the system resolver; tests inject one)."""
        self.client_factory = client_factory
        self.max_length = max_length
        self.timeout = timeout
        self.allow_private_network = allow_private_network
        self.strict = strict

    async def destination(self, uri: str) -> PinnedTarget | None:
        """SSRF guard (OIDC Core §6.2 leaves the fetch to the server): the host is resolved once, every address
        must be public, and the call goes to the checked address (no DNS rebinding); ``None`` refuses the URI."""
        if self.allow_private_network:
            return PinnedTarget(uri, {}, {}) if urlsplit(uri).scheme in ("http", "https") else None
        if self.resolve is not None:
            return await pin_public_address(uri, self.resolve)
        return await pin_public_address(uri)

    async def fetch(self, uri: str) -> str | RequestUriError:
        """The request object at ``uri``, or why it cannot be used (``invalid_request_uri``)."""
        target = await self.destination(uri)
        if target is None:
            return RequestUriError(
                AuthorizeErrors.INVALID_REQUEST_URI, "request_uri must be an https URL of a public host"
            )
        if "httpx" not in sys.modules:
            # loaded at the first fetch, in a thread (~0.2 s): most deployments never fetch a request_uri, and the
            # library with what it loads costs every worker several MiB (issue 15's memory budget)
            await asyncio.to_thread(importlib.import_module, "httpx")
        import httpx

        client = self.client_factory() if self.client_factory else httpx.AsyncClient()
        headers = {**target.headers, "Accept": f"application/{JwtTypes.AUTHORIZATION_REQUEST}"}
        try:
            async with client, asyncio.timeout(self.timeout):
                request = client.build_request("GET", target.url, headers=headers, extensions=target.extensions)
                response = await client.send(request, stream=True, follow_redirects=False)
                try:
                    body = await self.read(response)
                finally:
                    await response.aclose()
        except (httpx.HTTPError, TimeoutError, OSError):
            return RequestUriError(AuthorizeErrors.INVALID_REQUEST_URI, "request_uri could not be fetched")
        if isinstance(body, RequestUriError):
            return body
        try:
            return body.decode("ascii").strip()
        except UnicodeDecodeError:
            return RequestUriError(AuthorizeErrors.INVALID_REQUEST_OBJECT, "request_uri content is not a JWT")

    async def read(self, response: httpx.Response) -> bytes | RequestUriError:
        """The body of a 200 response of at most ``max_length`` bytes (of the JAR media type when strict)."""
        if response.status_code != 200:
            return RequestUriError(AuthorizeErrors.INVALID_REQUEST_URI, f"request_uri answered {response.status_code}")
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if self.strict and media_type != f"application/{JwtTypes.AUTHORIZATION_REQUEST}":
            return RequestUriError(
                AuthorizeErrors.INVALID_REQUEST_URI, "request_uri must be served as application/oauth-authz-req+jwt"
            )
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self.max_length:
                return RequestUriError(AuthorizeErrors.INVALID_REQUEST_URI, "request_uri content is too large")
        return bytes(body)
