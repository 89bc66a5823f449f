"""Pure-ASGI middleware that serves the protocol endpoints (Duende ``IdentityServerMiddleware`` +
``BaseUrlMiddleware``). Everything else goes to the wrapped app (the UI)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import CookieError, SimpleCookie
from typing import Any

from identityserver.constants import ProtocolRoutePaths
from identityserver.events import UnhandledExceptionEvent
from identityserver.hosting.client_certificates import CLIENT_CERTIFICATE
from identityserver.hosting.hosts import host_allowed
from identityserver.hosting.router import EndpointRouter
from identityserver.hosting.writers import NO_STORE, HttpResponse, ResultWriters, write
from identityserver.http.request import EndpointRequest
from identityserver.options import IdentityServerOptions
from identityserver.services.protocols import CorsPolicyService, EventService

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("identityserver")
_JSON_TYPE = (b"content-type", b"application/json")
_VALID_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
CORS_PATHS = frozenset(
    {
        ProtocolRoutePaths.DISCOVERY,
        ProtocolRoutePaths.DISCOVERY_WEB_KEYS,
        ProtocolRoutePaths.TOKEN,
        ProtocolRoutePaths.USER_INFO,
        ProtocolRoutePaths.REVOCATION,
        ProtocolRoutePaths.PUSHED_AUTHORIZATION,
    }
)


class BodyTooLarge(Exception):
    pass


def relative_path(scope: Scope) -> str:
    path: str = scope.get("path", "/")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    return path


def base_url_from_scope(scope: Scope, options: IdentityServerOptions) -> str | None:
    """``issuer_uri`` when configured; else scheme://host/root_path from the request (``None`` if the Host
    header is malformed or not in ``allowed_hosts``)."""
    if options.issuer_uri:
        return options.issuer_uri.rstrip("/")
    host = ""
    for name, value in scope.get("headers", []):
        if name == b"host":
            host = value.decode("latin-1")
            break
    if not host:
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else "localhost"
    if not _VALID_HOST.match(host) or not host_allowed(host, options.allowed_hosts):
        return None  # the issuer would follow the Host header (issue 16 item 6): 400
    base = f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}".rstrip("/")
    return base.lower() if options.lower_case_issuer_uri else base


async def read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def send_response(send: Send, response: HttpResponse, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    status, headers, body = response
    if extra:
        headers = headers + extra
    if not any(name == b"content-length" for name, _ in headers):
        headers = [*headers, (b"content-length", str(len(body)).encode("ascii"))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _cookies(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    jar: dict[str, str] = {}
    for name, value in headers:
        if name == b"cookie":
            try:
                parsed = SimpleCookie(value.decode("latin-1"))
            except CookieError:
                continue
            jar.update({k: m.value for k, m in parsed.items()})
    return jar


class IdentityServerMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        router: EndpointRouter,
        options: IdentityServerOptions,
        cors: CorsPolicyService | None = None,
        events: EventService | None = None,
        writers: ResultWriters | None = None,
    ) -> None:
        self.app = app
        self.writers = writers
        self.router = router
        self.options = options
        self.cors = cors
        self.events = events
        self.body_limit = options.input_length_restrictions.request_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = relative_path(scope)
        endpoint = self.router.find(path)
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        raw_headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        cors_headers = await self._cors_headers(path, raw_headers)
        if scope["method"] == "OPTIONS" and path in CORS_PATHS:
            await send_response(
                send,
                (204 if cors_headers else 403, [], b""),
                [
                    *cors_headers,
                    (b"access-control-allow-methods", b"GET, POST"),
                    (b"access-control-allow-headers", b"Authorization, Content-Type, DPoP"),
                    (b"access-control-max-age", b"600"),
                ]
                if cors_headers
                else None,
            )
            return
        base_url = base_url_from_scope(scope, self.options)
        if base_url is None:
            await send_response(send, (400, [_JSON_TYPE, *NO_STORE], b'{"error":"invalid_request"}'))
            return
        try:
            body = await read_body(receive, self.body_limit) if scope["method"] in ("POST", "PUT") else b""
        except BodyTooLarge:
            await send_response(
                send, (413, [_JSON_TYPE, *NO_STORE], b'{"error":"invalid_request","error_description":"too large"}')
            )
            return
        headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in raw_headers]
        client = scope.get("client")
        request = EndpointRequest(
            method=scope["method"],
            path=path,
            base_url=base_url,
            issuer=base_url,
            headers=headers,
            query_string=scope.get("query_string", b"").decode("latin-1"),
            body=body,
            remote_ip=client[0] if client else None,
            cookies=_cookies(raw_headers),
            client_certificate=scope.get(CLIENT_CERTIFICATE),
        )
        try:
            result = await endpoint.handler.process(request)
            response = write(result, self.writers)
        except Exception as error:
            logger.exception("unhandled exception in endpoint %s", endpoint.name)
            if self.events is not None:
                event = UnhandledExceptionEvent.from_exception(error, endpoint.name)
                await self.events.raise_event(event, request.remote_ip)
            response = (
                500,
                [(b"content-type", b"application/json"), (b"cache-control", b"no-store")],
                b'{"error":"server_error"}',
            )
        await send_response(send, response, cors_headers)

    async def _cors_headers(self, path: str, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        if self.cors is None or path not in CORS_PATHS:
            return []
        origin = next((v.decode("latin-1") for n, v in headers if n == b"origin"), None)
        if not origin or not await self.cors.is_origin_allowed(origin):
            return []
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"vary", b"Origin"),
            (b"access-control-expose-headers", b"DPoP-Nonce, WWW-Authenticate"),
        ]
