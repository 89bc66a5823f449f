"""One send per response. uvicorn's httptools protocol writes a response's head and its body with two
``transport.write`` calls, and asyncio sends each at once (its sockets are ``TCP_NODELAY``): two system calls and
two packets per response, where the head is a few hundred bytes. This transport gathers the writes of one turn of
the event loop and sends them with one call at the end of it (docs/performance-stored-grants.md). The connections
that wrote in one turn are sent by one callback, not one each: under load many responses end in the same turn."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any


class _TurnFlush:
    """The transports of one loop with writes buffered in this turn, sent by one ``call_soon`` at its end. It keeps
    no reference to its loop, the key it is stored under in ``_turns``: the entry goes when the loop goes."""

    __slots__ = ("_transports",)

    def __init__(self) -> None:
        self._transports: list[CoalescingTransport] = []

    def add(self, transport: CoalescingTransport, loop: asyncio.AbstractEventLoop) -> None:
        if not self._transports:
            loop.call_soon(self._flush_all, loop)
        self._transports.append(transport)

    def _flush_all(self, loop: asyncio.AbstractEventLoop) -> None:
        transports, self._transports = self._transports, []
        for transport in transports:
            try:
                transport.flush()
            except Exception as error:  # one connection's failure must not hold back the others' responses
                loop.call_exception_handler(
                    {"message": "flushing a connection failed", "exception": error, "transport": transport}
                )


_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _TurnFlush] = weakref.WeakKeyDictionary()


def _turn_of(loop: asyncio.AbstractEventLoop) -> _TurnFlush:
    turn = _turns.get(loop)
    if turn is None:
        turn = _turns[loop] = _TurnFlush()
    return turn


class CoalescingTransport:
    """Wraps a socket transport: ``write`` buffers until the loop's next turn, ``close`` sends what is buffered
    first, everything else is the wrapped transport's."""

    __slots__ = ("_loop", "_pending", "_transport", "_turn")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._turn = _turn_of(loop)
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._turn.add(self, self._loop)
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
