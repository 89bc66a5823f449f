"""Pure-ASGI middleware that authenticates API requests (no Starlette needed). The validated token is put in
``scope["identityserver.access_token"]``; failures answer 401/403 with RFC 6750 / RFC 9449 challenges."""

from __future__ import annotations

import json
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from identityserver.resource_server.validator import AccessTokenValidator, AuthenticationFailure

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
SCOPE_KEY = "identityserver.access_token"
CLIENT_CERTIFICATE_KEY = "identityserver.client_certificate"
"""Where ``hosting.client_certificates.ClientCertificateMiddleware`` puts a trusted proxy's ``Client-Cert``."""


def request_certificate(scope: Scope) -> bytes | None:
    """The DER client certificate of the request: what the client-certificate middleware found, else the leaf of
    the ASGI TLS extension's ``client_cert_chain`` (RFC 8705 §3)."""
    found = scope.get(CLIENT_CERTIFICATE_KEY)
    if isinstance(found, bytes):
        return found
    extensions = scope.get("extensions") or {}
    tls = extensions.get("tls") if isinstance(extensions, dict) else None
    chain = tls.get("client_cert_chain") if isinstance(tls, dict) else None
    if not isinstance(chain, list | tuple) or not chain:
        return None
    try:
        return ssl.PEM_cert_to_DER_cert(str(chain[0]))
    except ValueError:
        return None


def request_url(scope: Scope, public_base_url: str | None = None) -> str:
    """The public URL of the request without its query: ``public_base_url`` + path when behind a proxy, else
    scheme://host + path (ASGI ``path`` is the full path, ``root_path`` included)."""
    path: str = scope.get("path", "/")
    if public_base_url:
        return public_base_url.rstrip("/") + path
    host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "localhost")
    return f"{scope.get('scheme', 'http')}://{host}{path}"


class AccessTokenMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        validator: AccessTokenValidator,
        required: bool = True,
        public_base_url: str | None = None,
        exclude_paths: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.validator = validator
        self.required = required
        self.public_base_url = public_base_url
        self.exclude_paths = exclude_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "") in self.exclude_paths:
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        authorization = [v.decode("latin-1") for k, v in headers if k == b"authorization"]
        if not authorization and not self.required:
            await self.app(scope, receive, send)
            return
        proofs = [v.decode("latin-1") for k, v in headers if k == b"dpop"]
        result = await self.validator.validate(
            authorization, proofs, scope["method"], request_url(scope, self.public_base_url), request_certificate(scope)
        )
        if isinstance(result, AuthenticationFailure):
            body = json.dumps(
                {"error": result.error or "unauthorized", "error_description": result.description}
            ).encode("utf-8")
            response_headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *[(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in result.headers.items()],
            ]
            await send({"type": "http.response.start", "status": result.status, "headers": response_headers})
            await send({"type": "http.response.body", "body": body})
            return
        scope[SCOPE_KEY] = result
        await self.app(scope, receive, send)
