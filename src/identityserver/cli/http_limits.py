"""Limits on the request line and headers for the server ``serve`` runs (issue 16 item 3). uvicorn's httptools
protocol reads headers of any size into memory (a 50 MB ``Cookie`` header was answered 200); this protocol
counts the bytes of each request head as they arrive and answers ``414 URI Too Long`` (RFC 9110 §15.5.15) or
``431 Request Header Fields Too Large`` (RFC 6585 §5) and closes the connection as soon as a limit is passed,
before the rest is read. Behind a proxy, its limits apply first (docs/operations.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, MutableMapping
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from identityserver.cli.coalescing_transport import CoalescingTransport

MAX_REQUEST_LINE = 8 * 1024
"""Bytes of the request target (path and query)."""
MAX_HEADER_BYTES = 16 * 1024
"""Bytes of all header fields together (names, values and separators)."""
HEAD_TIMEOUT = 20.0
"""Seconds a request head may take to arrive, counted from the connection, or on a kept-alive connection from the
head's first bytes (slowloris: a head trickled a line at a time, or never sent, would otherwise hold its connection
forever). How long a kept-alive connection may sit idle before that is the keep-alive timeout's."""
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


class _MovingDeadline:
    """A deadline moved on every request, and one timer per connection that fires at most once per timeout period:
    re-arming a timer (heap push and cancel) on each request cost more than the request's own checks (uvicorn's
    keep-alive timer did so: 2.1 µs a request, 7 % of a JWKS response; docs/performance-stored-grants.md)."""

    __slots__ = ("_deadline", "_expired", "_loop", "_timer")

    def __init__(self, loop: asyncio.AbstractEventLoop, expired: Callable[[], None]) -> None:
        self._loop = loop
        self._expired = expired
        self._deadline: float | None = None
        self._timer: asyncio.TimerHandle | None = None

    def arm(self, seconds: float) -> None:
        """``expired`` runs ``seconds`` from now, unless the deadline is moved or disarmed first."""
        self._deadline = self._loop.time() + seconds
        if self._timer is None:
            self._timer = self._loop.call_at(self._deadline, self._fired)

    def disarm(self) -> None:
        self._deadline = None

    @property
    def armed(self) -> bool:
        return self._deadline is not None

    def cancel(self) -> None:
        """Disarm and drop the timer (the connection is gone)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._deadline = None

    def _fired(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None:
            return
        if self._loop.time() < deadline:
            self._timer = self._loop.call_at(deadline, self._fired)
            return
        self._deadline = None
        self._expired()


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
        self._head_deadline = _MovingDeadline(self.loop, self._head_timed_out)
        self._keep_alive_deadline = _MovingDeadline(self.loop, self.timeout_keep_alive_handler)
        self._body_timer: asyncio.TimerHandle | None = None
        self.url = b""
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_deadline.cancel()
        self._keep_alive_deadline.cancel()
        self._disarm_body_timer()
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

    def _arm_head_timer(self) -> None:
        self._head_deadline.arm(self.head_timeout)

    def _head_timed_out(self) -> None:
        if self.transport.is_closing() or not self._in_head:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm_head_timer()  # a response is still being produced: the next head's time starts after it
            return
        if self._head_bytes == 0:
            self.transport.close()  # nothing sent: close quietly, as the keep-alive timeout does
        else:
            self._refuse(408)

    def data_received(self, data: bytes) -> None:
        self._keep_alive_deadline.disarm()  # the next request has begun (uvicorn cancels its timer here)
        if self.transport.is_closing():
            return
        if self._in_head:
            if self._head_bytes == 0 and not self._head_deadline.armed:
                self._arm_head_timer()  # a head begins on a kept-alive connection: its time starts now
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
        self._head_deadline.disarm()
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
        else:  # uvicorn's own, with a moving deadline for its keep-alive timer
            self.server_state.total_requests += 1
            self._unset_keepalive_if_required()
            self.flow.resume_reading()
            self._keep_alive_deadline.arm(self.timeout_keep_alive)
            if self._head_bytes == 0:
                # idle until the next head begins: how long it may stay so is the keep-alive timeout's to say,
                # which outlasts the idle timeouts of clients and load balancers (cli/serve.py)
                self._head_deadline.disarm()
                return
        if not self.transport.is_closing():
            self._arm_head_timer()
