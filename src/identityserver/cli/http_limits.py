"""Limits on the request line and headers for the server ``serve`` runs (issue 16 item 3). uvicorn's httptools
protocol reads headers of any size into memory (a 50 MB ``Cookie`` header was answered 200); this protocol
counts the bytes of each request head as they arrive and answers ``414 URI Too Long`` (RFC 9110 §15.5.15) or
``431 Request Header Fields Too Large`` (RFC 6585 §5) and closes the connection as soon as a limit is passed,
before the rest is read. Behind a proxy, its limits apply first (docs/operations.md)."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from identityserver.cli.coalescing_transport import CoalescingTransport

MAX_REQUEST_LINE = 8 * 1024
"""Bytes of the request target (path and query)."""
MAX_HEADER_BYTES = 16 * 1024
"""Bytes of all header fields together (names, values and separators)."""
HEAD_TIMEOUT = 20.0
"""Seconds a request head may take to arrive, counted from the connection or the end of the previous response
(slowloris: a head trickled a line at a time, or never sent, would otherwise hold its connection forever)."""
MIN_BODY_RATE = 240
"""Bytes per second a request body must arrive at, averaged over :data:`BODY_RATE_INTERVAL` (Kestrel's
``MinRequestBodyDataRate``); time the server itself stopped reading (flow control) does not count."""
BODY_RATE_INTERVAL = 10.0

_MESSAGES = {
    408: b"request not received in time",
    414: b"request line too long",
    431: b"request header fields too large",
}


def _response(status: int) -> bytes:
    body = _MESSAGES[status]
    return b"".join(
        [
            STATUS_LINE[status],
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )


def _refusal_app(status: int) -> Any:
    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        body = _MESSAGES[status]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode("ascii")),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with :data:`MAX_REQUEST_LINE` and :data:`MAX_HEADER_BYTES`."""

    max_request_line = MAX_REQUEST_LINE
    max_header_bytes = MAX_HEADER_BYTES
    head_timeout = HEAD_TIMEOUT
    min_body_rate = MIN_BODY_RATE
    body_rate_interval = BODY_RATE_INTERVAL

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._in_head = True
        self._head_bytes = 0
        self._body_bytes = 0
        self._head_deadline: float | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._keep_alive_deadline: float | None = None
        self._keep_alive_timer: asyncio.TimerHandle | None = None
        self.url = b""
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._head_timer, self._body_timer, self._keep_alive_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = self._keep_alive_timer = None
        self._head_deadline = self._keep_alive_deadline = None
        super().connection_lost(exc)

    def _arm_body_timer(self) -> None:
        self._disarm_body_timer()
        self._body_bytes = 0
        self._body_timer = self.loop.call_later(self.body_rate_interval, self._body_rate_check)

    def _disarm_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_rate_check(self) -> None:
        """A body trickled slower than :data:`MIN_BODY_RATE` (slow POST) is refused like a trickled head."""
        self._body_timer = None
        if self.transport.is_closing() or self._in_head:
            return
        if self.flow.read_paused or self._body_bytes >= self.min_body_rate * self.body_rate_interval:
            self._arm_body_timer()
            return
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()  # a response is on its way: no second one
        else:
            self._refuse(408)

    # A deadline moved on every request, and one timer per connection that fires at most once per timeout
    # period: re-arming a timer (heap push and cancel) on each request cost more than the request's own checks.
    def _arm_head_timer(self) -> None:
        self._head_deadline = self.loop.time() + self.head_timeout
        if self._head_timer is None:
            self._head_timer = self.loop.call_at(self._head_deadline, self._head_timer_fired)

    def _disarm_head_timer(self) -> None:
        self._head_deadline = None

    def _head_timer_fired(self) -> None:
        self._head_timer = None
        deadline = self._head_deadline
        if deadline is None:
            return
        if self.loop.time() < deadline:
            self._head_timer = self.loop.call_at(deadline, self._head_timer_fired)
            return
        self._head_deadline = None
        self._head_timed_out()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self._in_head:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm_head_timer()  # a response is still being produced: the next head's time starts after it
            return
        if self._head_bytes == 0:
            self.transport.close()  # nothing sent: close quietly, as the keep-alive timeout does
        else:
            self._refuse(408)

    # uvicorn re-arms its keep-alive timer (``call_later``, then ``cancel`` when the next request comes) on every
    # response: 2.1 µs a request, 7 % of a JWKS response (docs/performance-stored-grants.md). Here, as for the head
    # timer, a deadline moves and one timer per connection fires at most once per keep-alive period.
    def _arm_keep_alive(self) -> None:
        self._keep_alive_deadline = self.loop.time() + self.timeout_keep_alive
        if self._keep_alive_timer is None:
            self._keep_alive_timer = self.loop.call_at(self._keep_alive_deadline, self._keep_alive_fired)

    def _keep_alive_fired(self) -> None:
        self._keep_alive_timer = None
        deadline = self._keep_alive_deadline
        if deadline is None:
            return
        if self.loop.time() < deadline:
            self._keep_alive_timer = self.loop.call_at(deadline, self._keep_alive_fired)
            return
        self._keep_alive_deadline = None
        self.timeout_keep_alive_handler()

    def data_received(self, data: bytes) -> None:
        self._keep_alive_deadline = None  # the next request has begun (uvicorn cancels its timer here)
        if self.transport.is_closing():
            return
        if self._in_head:
            self._head_bytes += len(data)
        else:
            self._body_bytes += len(data)
        super().data_received(data)
        if not self._in_head:
            if self._body_timer is None and not self.transport.is_closing():
                self._arm_body_timer()  # the body did not come whole with its head: watch its rate from here
            return
        if self.transport.is_closing():
            return
        # still inside a request head: refuse as soon as it is certainly too long, before reading the rest
        if len(self.url) > self.max_request_line:
            self._refuse(414)
        elif self._head_bytes > self.max_request_line + self.max_header_bytes + 64:
            self._refuse(414 if len(self.url) > self.max_request_line else 431)

    def _refuse(self, status: int) -> None:
        self.logger.warning("refused a request with a %s (status %s)", _MESSAGES[status].decode(), status)
        self.transport.write(_response(status))
        self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        self._in_head = False
        self._head_bytes = 0
        header_bytes = sum(len(name) + len(value) + 4 for name, value in self.headers)
        status = 414 if len(self.url) > self.max_request_line else 431 if header_bytes > self.max_header_bytes else None
        if status is None:
            super().on_headers_complete()
            self._body_bytes = 0
            return
        # the head fitted in one read: answer through a cycle, so that a pipelined response still comes in order
        app = self.app
        self.app = _refusal_app(status)
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._disarm_body_timer()
        self._arm_head_timer()  # waits for a response in progress (see _head_timed_out)

    def on_response_complete(self) -> None:
        if self.pipeline or self.transport.is_closing():
            super().on_response_complete()  # a pipelined request starts, or the connection is going: no keep-alive
        else:  # uvicorn's own, with the keep-alive deadline for its timer
            self.server_state.total_requests += 1
            self._unset_keepalive_if_required()
            self.flow.resume_reading()
            self._arm_keep_alive()
        if not self.transport.is_closing():
            self._arm_head_timer()
