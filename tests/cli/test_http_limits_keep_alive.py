"""The keep-alive timeout of ``serve``'s HTTP protocol (cli/http_limits.py): a connection left idle after a response
is closed after ``timeout_keep_alive`` seconds, as uvicorn closes it, but the deadline moves with each response
instead of a timer being scheduled and cancelled for every one of them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from identityserver.cli.http_limits import LimitedHttpToolsProtocol
from tests.support.uvicorn_in_loop import serving

KEEP_ALIVE = 2
REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(REQUEST)
    return await asyncio.wait_for(reader.readuntil(b"ok"), 5)


async def test_an_idle_kept_alive_connection_is_closed_after_the_keep_alive_timeout():
    async with serving(app, LimitedHttpToolsProtocol, timeout_keep_alive=KEEP_ALIVE) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert (await exchange(reader, writer)).startswith(b"HTTP/1.1 200 ")
        answered = time.monotonic()
        assert await asyncio.wait_for(reader.read(), KEEP_ALIVE + 3) == b""  # closed, nothing more sent
        assert KEEP_ALIVE - 0.2 <= time.monotonic() - answered < KEEP_ALIVE + 2
        writer.close()


async def test_a_connection_in_use_outlives_the_deadline_of_its_earlier_responses():
    async with serving(app, LimitedHttpToolsProtocol, timeout_keep_alive=KEEP_ALIVE) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        started = time.monotonic()
        while time.monotonic() - started < KEEP_ALIVE * 1.75:  # a request every 0.3 s, well past the first deadline
            assert (await exchange(reader, writer)).startswith(b"HTTP/1.1 200 ")
            await asyncio.sleep(0.3)
        assert not reader.at_eof()
        assert (await exchange(reader, writer)).startswith(b"HTTP/1.1 200 ")
        writer.close()


async def test_a_pipelined_request_is_answered_and_the_connection_then_times_out():
    async with serving(app, LimitedHttpToolsProtocol, timeout_keep_alive=KEEP_ALIVE) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(REQUEST * 3)
        for _ in range(3):
            assert (await asyncio.wait_for(reader.readuntil(b"ok"), 5)).startswith(b"HTTP/1.1 200 ")
        assert await asyncio.wait_for(reader.read(), KEEP_ALIVE + 3) == b""
        writer.close()


async def test_requests_on_one_connection_do_not_each_schedule_a_timer(monkeypatch: pytest.MonkeyPatch):
    loop = asyncio.get_running_loop()
    scheduled: list[str] = []

    def counting(schedule: Callable[..., asyncio.TimerHandle]) -> Callable[..., asyncio.TimerHandle]:
        def wrapper(when: float, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
            # a moving deadline's timer is named by what it runs when it expires
            expires = getattr(getattr(callback, "__self__", None), "_expired", callback)
            scheduled.append(getattr(expires, "__name__", repr(expires)))
            return schedule(when, callback, *args, **kwargs)

        return wrapper

    async with serving(app, LimitedHttpToolsProtocol, timeout_keep_alive=KEEP_ALIVE) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        monkeypatch.setattr(loop, "call_later", counting(loop.call_later))
        monkeypatch.setattr(loop, "call_at", counting(loop.call_at))
        for _ in range(200):
            assert (await exchange(reader, writer)).startswith(b"HTTP/1.1 200 ")
        keep_alive = [name for name in scheduled if "keep_alive" in name]
        # uvicorn's own protocol schedules one per response (200); here one for the connection
        assert 1 <= len(keep_alive) <= 2, keep_alive
        writer.close()


class ShortHeadTimeout(LimitedHttpToolsProtocol):
    head_timeout = 0.6


async def test_an_idle_kept_alive_connection_outlives_the_head_timeout():
    """An idle connection is the keep-alive timeout's: closing it at the (shorter) head timeout would race the
    request a client or load balancer sends on it as it is closed (cli/serve.py, DEFAULT_KEEP_ALIVE_TIMEOUT)."""
    async with serving(app, ShortHeadTimeout, timeout_keep_alive=KEEP_ALIVE) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert (await exchange(reader, writer)).startswith(b"HTTP/1.1 200 ")
        await asyncio.sleep(ShortHeadTimeout.head_timeout * 2)
        assert not reader.at_eof()
        assert (await exchange(reader, writer)).startswith(b"HTTP/1.1 200 ")
        answered = time.monotonic()
        assert await asyncio.wait_for(reader.read(), KEEP_ALIVE + 3) == b""  # then the keep-alive timeout closes it
        assert KEEP_ALIVE - 0.2 <= time.monotonic() - answered < KEEP_ALIVE + 2
        writer.close()


async def test_a_head_begun_after_an_idle_spell_is_timed_from_its_first_bytes():
    async with serving(app, ShortHeadTimeout, timeout_keep_alive=KEEP_ALIVE * 5) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert (await exchange(reader, writer)).startswith(b"HTTP/1.1 200 ")
        await asyncio.sleep(ShortHeadTimeout.head_timeout * 2)
        writer.write(b"GET / HTTP/1.1\r\n")  # and the rest never comes
        started = time.monotonic()
        answer = await asyncio.wait_for(reader.read(), KEEP_ALIVE + 3)
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert time.monotonic() - started < ShortHeadTimeout.head_timeout + 1.0
        writer.close()


async def test_a_new_connection_that_sends_nothing_is_still_closed_at_the_head_timeout():
    async with serving(app, ShortHeadTimeout, timeout_keep_alive=KEEP_ALIVE * 5) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        started = time.monotonic()
        assert await asyncio.wait_for(reader.read(), KEEP_ALIVE + 3) == b""
        assert time.monotonic() - started < ShortHeadTimeout.head_timeout + 1.0
        writer.close()
