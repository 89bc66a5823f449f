"""One send per response. uvicorn's httptools protocol writes a response's head and its body with two
``transport.write`` calls, and asyncio sends each at once (its sockets are ``TCP_NODELAY``): two system calls and
two packets per response, where the head is a few hundred bytes. This transport gathers the writes of one turn of
the event loop and sends them with one call at the end of it (docs/performance-stored-grants.md)."""

from __future__ import annotations

import asyncio
from typing import Any


class CoalescingTransport:
    """Wraps a socket transport: ``write`` buffers until the loop's next turn, ``close`` sends what is buffered
    first, everything else is the wrapped transport's."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data) if not isinstance(data, bytes) else data)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Send what is buffered now (a no-op when nothing is)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        if not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(chunk) for chunk in self._pending)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
