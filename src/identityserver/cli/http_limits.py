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

MAX_REQUEST_LINE = 8 * 1024
"""Bytes of the request target (path and query)."""
MAX_HEADER_BYTES = 16 * 1024
"""Bytes of all header fields together (names, values and separators)."""

_MESSAGES = {414: b"request line too long", 431: b"request header fields too large"}


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

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._in_head = True
        self._head_bytes = 0
        self.url = b""
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if not self._in_head or self.transport.is_closing():
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
        self._in_head = False
        self._head_bytes = 0
        header_bytes = sum(len(name) + len(value) + 4 for name, value in self.headers)
        status = 414 if len(self.url) > self.max_request_line else 431 if header_bytes > self.max_header_bytes else None
        if status is None:
            super().on_headers_complete()
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
