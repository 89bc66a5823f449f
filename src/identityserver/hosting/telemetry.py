"""``RequestTelemetry``: the ASGI wrapper that opens one server span per protocol request and records its
duration (``identityserver.request.duration``). ``create_app`` puts it in front only when telemetry is enabled;
requests for the UI and unknown paths pass through untouched."""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode

from identityserver.hosting.middleware import ASGIApp, Message, Receive, Scope, Send, relative_path
from identityserver.hosting.router import EndpointRouter
from identityserver.telemetry import REQUEST_DURATION, tracer

ENDPOINT_ATTRIBUTE = "identityserver.endpoint"
_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})


class RequestTelemetry:
    def __init__(self, app: ASGIApp, router: EndpointRouter) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = relative_path(scope)
        endpoint = self.router.find(path)
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        attributes: dict[str, Any] = {
            "http.request.method": method,
            "url.path": path,
            "url.scheme": scope.get("scheme", "http"),
            ENDPOINT_ATTRIBUTE: endpoint.name,
        }
        status = 500
        # a caller's W3C trace context makes this span its child (the header names are fixed by the W3C specs)
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope.get("headers", [])
            if name in _TRACE_HEADERS
        }

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        started = time.perf_counter()
        with tracer.start_as_current_span(
            f"{method} {path}",
            context=propagate.extract(carrier) if carrier else None,
            kind=SpanKind.SERVER,
            attributes=attributes,
            record_exception=True,
        ) as span:
            try:
                await self.app(scope, receive, send_and_record)
            finally:
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                REQUEST_DURATION.record(
                    time.perf_counter() - started,
                    {
                        ENDPOINT_ATTRIBUTE: endpoint.name,
                        "http.request.method": method,
                        "http.response.status_code": status,
                    },
                )
