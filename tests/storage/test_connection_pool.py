"""The PostgreSQL fast path's connection pool (``postgres_fast_path._ConnectionPool``): bounded, handed over in order,
broken or cancelled connections never reused, nothing lost when a waiter is cancelled."""

from __future__ import annotations

import asyncio

import pytest

from identityserver.storage.sqlalchemy.postgres_fast_path import _ConnectionPool


class FakeConnection:
    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False
        self.terminated = False

    def is_closed(self) -> bool:
        return self.closed or self.terminated

    def terminate(self) -> None:
        self.terminated = True

    async def close(self) -> None:
        self.closed = True


def pool_of(size: int) -> tuple[_ConnectionPool, list[FakeConnection]]:
    opened: list[FakeConnection] = []

    async def connect() -> FakeConnection:
        opened.append(FakeConnection(len(opened)))
        return opened[-1]

    return _ConnectionPool(connect, size), opened


async def test_never_more_connections_than_the_bound_and_waiters_get_released_ones() -> None:
    pool, opened = pool_of(2)
    first, second = await pool.acquire(), await pool.acquire()
    third = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0)
    assert not third.done() and len(opened) == 2
    pool.release(first)
    assert await third is first
    pool.release(second)
    assert await pool.acquire() is second  # idle connections are reused, not opened anew
    assert len(opened) == 2


async def test_a_broken_connection_is_terminated_and_a_waiter_opens_a_new_one() -> None:
    pool, opened = pool_of(1)
    only = await pool.acquire()
    waiting = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0)
    pool.release(only, broken=True)
    replacement = await waiting
    assert only.terminated and replacement is not only and len(opened) == 2


async def test_a_connection_handed_to_a_cancelled_waiter_goes_to_the_next() -> None:
    pool, opened = pool_of(1)
    only = await pool.acquire()
    cancelled = asyncio.ensure_future(pool.acquire())
    patient = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0)
    pool.release(only)  # handed to the first waiter ...
    cancelled.cancel()  # ... which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert await asyncio.wait_for(patient, 1) is only
    assert len(opened) == 1


async def test_a_failed_connect_frees_its_place() -> None:
    attempts = 0

    async def connect() -> FakeConnection:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise OSError("refused")
        return FakeConnection(attempts)

    pool = _ConnectionPool(connect, 1)
    with pytest.raises(OSError):
        await pool.acquire()
    assert (await pool.acquire()).number == 2


async def test_discarded_idle_connections_and_a_closed_pool() -> None:
    pool, _ = pool_of(2)
    a, b = await pool.acquire(), await pool.acquire()
    pool.release(a)
    pool.release(b)
    pool.discard_idle()
    assert a.terminated and b.terminated
    fresh = await pool.acquire()
    assert fresh not in (a, b)
    pool.release(fresh)
    await pool.close()
    assert fresh.closed
    with pytest.raises(RuntimeError):
        await pool.acquire()
