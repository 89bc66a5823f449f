"""A response's head and body leave in one write (cli/coalescing_transport.py)."""

from __future__ import annotations

import asyncio

from identityserver.cli.coalescing_transport import CoalescingTransport


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.eof = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def write_eof(self) -> None:
        self.eof = True

    def get_write_buffer_size(self) -> int:
        return 7

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


async def turn() -> None:
    await asyncio.sleep(0)


async def test_the_writes_of_one_turn_leave_together_at_its_end():
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(bytearray(b"{}"))
    assert inner.writes == []
    assert transport.get_write_buffer_size() == 7 + 40
    await turn()
    assert inner.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    transport.writelines([b"a", memoryview(b"b")])
    await turn()
    assert inner.writes[1:] == [b"ab"]


async def test_close_and_eof_send_what_is_buffered_first():
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"last words")
    transport.close()
    assert inner.writes == [b"last words"]
    assert inner.closed
    await turn()
    assert inner.writes == [b"last words"]
    other = RecordingTransport()
    transport = CoalescingTransport(other, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"x")
    transport.write_eof()
    assert other.writes == [b"x"]
    assert other.eof


async def test_nothing_is_written_to_a_transport_that_closed_meanwhile():
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"late")
    inner.closed = True  # the peer went away before the loop's turn ended
    await turn()
    assert inner.writes == []
    assert transport.is_closing()
    assert transport.get_extra_info("peername") == "info:peername"
