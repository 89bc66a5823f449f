"""Refuses requests for hosts outside ``allowed_hosts`` when the issuer is derived from the request (issue 16
item 6), for the protocol endpoints and the UI alike: 400, as ASP.NET Core's host filtering answers."""

from __future__ import annotations

from identityserver.hosting.middleware import ASGIApp, Receive, Scope, Send, base_url_from_scope
from identityserver.options import IdentityServerOptions

BODY = b"Bad Request: this server does not answer for the requested host"


class AllowedHostsMiddleware:
    def __init__(self, app: ASGIApp, options: IdentityServerOptions) -> None:
        self.app = app
        self.options = options

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or base_url_from_scope(scope, self.options) is not None:
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(BODY)).encode("ascii")),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": BODY})
