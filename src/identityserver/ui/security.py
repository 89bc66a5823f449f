"""Security headers on every UI response (RFC 9700 §4.16 clickjacking, §4.2.4 referrer leakage)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"
PASSKEY_CSP = CSP + "; script-src 'self'; connect-src 'self'"
"""Pages that run the passkey script (``static/passkeys.js``, docs/sign-in.md): same-origin script and fetch only."""
HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


class SecurityHeadersMiddleware:
    """Adds the headers unless the page set its own CSP (the logged-out page allows its logout iframes), and
    refuses request bodies over ``max_body`` bytes with 413 before any form is parsed (security.md items 19, 82)."""

    def __init__(self, app: ASGIApp, max_body: int = 65536) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await self._too_large(send)
            return
        received = 0

        async def limited_receive() -> MutableMapping[str, Any]:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:
                raise HTTPException(413, "request body too large")  # answered by Starlette's handler
            return message

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in HEADERS if n not in names]
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode("ascii")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, limited_receive, send_with_headers)

    @staticmethod
    async def _too_large(send: Send) -> None:
        body = b"request body too large"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"text/plain"),
                    (b"content-length", str(len(body)).encode()),
                    *HEADERS,
                    (b"content-security-policy", CSP.encode("ascii")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
