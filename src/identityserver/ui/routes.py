"""Routes of the built-in UI."""

from __future__ import annotations

from html import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from identityserver.configuration.services import Services

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


def create_ui(services: Services) -> Starlette:
    async def home(request: Request) -> Response:
        paths = sorted(services.router.paths)
        items = "".join(f"<li><code>{escape(p)}</code></li>" for p in paths)
        html = (
            "<!doctype html><html><head><meta charset='utf-8'><title>identityserver</title></head><body>"
            f"<h1>identityserver</h1><p>Protocol endpoints:</p><ul>{items}</ul></body></html>"
        )
        return HTMLResponse(html, headers=SECURITY_HEADERS)

    return Starlette(routes=[Route("/", home)])
