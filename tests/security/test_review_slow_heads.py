"""Review of issue 16 item 3: the request-head limits of ``serve`` bounded the bytes of a head but not the time it
may take, so a client trickling one header line at a time (slowloris) held its connection, and one that sent
nothing held it forever. A head must now arrive within ``head_timeout`` (408, RFC 9110 §15.5.9), while a slow
application response on a kept-alive connection is never cut off by it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from identityserver.cli.http_limits import LimitedHttpToolsProtocol
from tests.support.uvicorn_in_loop import serving

SHORT = 0.6


class ShortHeadTimeout(LimitedHttpToolsProtocol):
    head_timeout = SHORT
    body_rate_interval = SHORT  # at least 240 bytes/s: 144 bytes per interval


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/slow":
        await asyncio.sleep(SHORT * 2.5)
    more = True
    while more:  # read the whole body, as the endpoints do
        message = await receive()
        more = message.get("more_body", False) and message["type"] == "http.request"
    body = b"ok"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": body})


async def read_all(reader: asyncio.StreamReader, within: float) -> bytes:
    return await asyncio.wait_for(reader.read(), within)


async def test_a_trickled_request_head_gets_408_and_the_connection_is_closed():
    async with serving(app, ShortHeadTimeout) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        started = time.monotonic()
        writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        answer = b""
        for index in range(int(SHORT * 20)):  # one header line every 0.2 s, well past the timeout
            with contextlib.suppress(TimeoutError):
                answer = await asyncio.wait_for(reader.read(4096), 0.2)
            if answer or reader.at_eof():
                break
            writer.write(b"X-Trickle-%d: a\r\n" % index)
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert time.monotonic() - started < SHORT + 1.0
        writer.close()
        # the server still answers well-behaved clients
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        assert (await read_all(reader, 5)).startswith(b"HTTP/1.1 200 ")
        writer.close()


async def test_a_connection_that_sends_nothing_is_closed():
    async with serving(app, ShortHeadTimeout) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await read_all(reader, SHORT + 2) == b""  # closed without an answer
        writer.close()


async def test_a_slow_response_on_a_kept_alive_connection_is_not_cut_off():
    async with serving(app, ShortHeadTimeout) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        first = await asyncio.wait_for(reader.readuntil(b"ok"), 5)
        assert first.startswith(b"HTTP/1.1 200 ")
        writer.write(b"GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        slow = await asyncio.wait_for(reader.readuntil(b"ok"), 10)
        pipelined = await asyncio.wait_for(reader.readuntil(b"ok"), 5)
        assert slow.startswith(b"HTTP/1.1 200 ") and pipelined.startswith(b"HTTP/1.1 200 ")
        writer.close()


async def test_a_trickled_request_body_gets_408_and_the_connection_is_closed():
    async with serving(app, ShortHeadTimeout) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        started = time.monotonic()
        writer.write(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\n\r\n")
        answer = b""
        for _ in range(50):  # 10 bytes every 0.1 s: 100 bytes/s, under the minimum rate
            with contextlib.suppress(TimeoutError):
                answer = await asyncio.wait_for(reader.read(4096), 0.1)
            if answer or reader.at_eof():
                break
            writer.write(b"a" * 10)
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert time.monotonic() - started < SHORT * 2 + 1.0
        writer.close()


async def test_a_body_sent_at_a_modest_rate_is_served():
    async with serving(app, ShortHeadTimeout) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2000\r\n\r\n")
        for _ in range(10):  # 200 bytes every 0.15 s: over 1300 bytes/s, for longer than two intervals
            writer.write(b"a" * 200)
            await writer.drain()
            await asyncio.sleep(0.15)
        answer = await asyncio.wait_for(reader.readuntil(b"ok"), 5)
        assert answer.startswith(b"HTTP/1.1 200 ")
        # and the next request head on the connection is still timed
        writer.write(b"GET / HTTP/1.1\r\n")
        assert (await read_all(reader, SHORT + 2)).startswith(b"HTTP/1.1 408 ")
        writer.close()
