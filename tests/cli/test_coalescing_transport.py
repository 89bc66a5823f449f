"""A response's head and body leave in one write (cli/coalescing_transport.py)."""

from __future__ import annotations

import asyncio
import gc
import weakref

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


async def test_the_connections_that_wrote_in_one_turn_are_sent_by_one_callback(monkeypatch):
    loop = asyncio.get_running_loop()
    scheduled: list[object] = []
    call_soon = loop.call_soon

    def counting(callback, *args, **kwargs):  # type: ignore[no-untyped-def]
        scheduled.append(callback)
        return call_soon(callback, *args, **kwargs)

    inners = [RecordingTransport() for _ in range(20)]
    transports = [CoalescingTransport(inner, loop) for inner in inners]  # type: ignore[arg-type]
    monkeypatch.setattr(loop, "call_soon", counting)
    for number, transport in enumerate(transports):
        transport.write(b"head %d;" % number)
        transport.write(b"body")
    assert len(scheduled) == 1  # one per turn, not one per connection
    monkeypatch.undo()
    await turn()
    assert [inner.writes for inner in inners] == [[b"head %d;body" % n] for n in range(20)]


async def test_a_connection_whose_send_fails_does_not_hold_back_the_others():
    loop = asyncio.get_running_loop()
    reported: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _, context: reported.append(context))
    try:
        broken, fine = RecordingTransport(), RecordingTransport()

        def fail(data: bytes) -> None:
            raise OSError("gone")

        broken.write = fail  # type: ignore[method-assign]
        first = CoalescingTransport(broken, loop)  # type: ignore[arg-type]
        second = CoalescingTransport(fine, loop)  # type: ignore[arg-type]
        first.write(b"lost")
        second.write(b"sent")
        await turn()
        assert fine.writes == [b"sent"]
        assert [type(context["exception"]) for context in reported] == [OSError]
    finally:
        loop.set_exception_handler(None)


def test_a_closed_loop_and_its_turn_are_let_go():
    loop = asyncio.new_event_loop()
    try:
        CoalescingTransport(RecordingTransport(), loop).write(b"x")  # type: ignore[arg-type]
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()
    gone = weakref.ref(loop)
    del loop
    gc.collect()
    assert gone() is None
