"""The fast path's statements on PostgreSQL (issue 15): an asyncpg pool of the process's own, and statements that
arrive together sharing round trips.

- The pool's connections cache prepared statements (one ``Parse`` per statement and connection) and are replaced
  after a failure, without a pre-ping.
- Changes that return nothing (the upserts and deletes of ``store``/``remove``) are grouped: those that arrive
  while a group is written go together as one pipelined ``executemany`` (one round trip and one commit for the
  group, atomic); a group that fails is run again one statement at a time, so that only a failing change fails.
- A statement with a :class:`~identityserver.storage.sqlalchemy.fast_path.Gathered` form (a point read, a take,
  a consume) runs on its own when nothing else of its kind is in flight; the calls that arrive meanwhile run
  next as one statement over arrays (``"Key" = ANY($1)``, ``unnest($1, $2)``), and each call gets the rows of its
  own key. Of several calls that take or consume the same key, only the first can get its row: exactly one
  redemption wins, within a group as between processes (RFC 6749 §4.1.2, RFC 9700 §4.14.2). Why: asyncpg's
  ``executemany`` discards what statements return, so these were a round trip each (three per code redemption,
  four per refresh); gathered, a code flow on PostgreSQL costs about 11 % less CPU (docs/performance-stored-
  grants.md, twelfth pass)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.engine import Dialect

from identityserver.storage.sqlalchemy.fast_path import Compiled, Prepared, answer

T = TypeVar("T")

POSTGRES_POOL_MAX = 10
"""asyncpg connections per process for the fast path (SQLAlchemy's pool, for everything else, is separate)."""


class _ConnectionPool:
    """asyncpg connections of this process, handed out one statement at a time.

    Why not ``asyncpg.Pool``: its release runs as a shielded task with a reset step, about a third of the
    client-side cost of a point read here (``bench/store_path.py``); these connections only ever run single
    autocommit statements, so they keep no session state to reset. A connection whose statement failed in a
    way that may leave it mid-protocol (cancellation, a lost server) is closed instead of reused."""

    def __init__(self, connect: Callable[[], Any], max_size: int) -> None:
        self._connect = connect
        self._max_size = max_size
        self._idle: list[Any] = []
        self._size = 0
        self._waiters: deque[asyncio.Future[Any]] = deque()
        self._closed = False

    async def acquire(self) -> Any:
        while True:
            if self._closed:
                raise RuntimeError("the database connection pool is closed")
            while self._idle:
                connection = self._idle.pop()
                if not connection.is_closed():
                    return connection
                self._size -= 1
            if self._size < self._max_size:
                self._size += 1
                try:
                    return await self._connect()
                except BaseException:
                    self._size -= 1
                    self._wake()
                    raise
            waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                connection = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                    self.release(waiter.result())  # handed over as this task was cancelled: pass it on
                raise
            if connection is not None:
                return connection
            # woken without a connection (one was closed): try to open one

    def release(self, connection: Any, *, broken: bool = False) -> None:
        if broken or self._closed or connection.is_closed():
            self._size -= 1
            if not connection.is_closed():
                connection.terminate()
            self._wake()
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)

    def discard_idle(self) -> None:
        """Close the idle connections: after one was found lost (a server restart), the others likely are too."""
        idle, self._idle = self._idle, []
        for connection in idle:
            self._size -= 1
            connection.terminate()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            self._size -= 1
            await connection.close()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the database connection pool is closed"))


_Pending = tuple[Compiled, list[Any], asyncio.Future[None]]
"""A grouped change: its statement, its parameters, and the future its caller awaits."""

_Call = tuple[Mapping[str, Any], asyncio.Future[dict[str, Any] | None]]
"""A call waiting for the next gathered statement of its kind: its values, and the future its caller awaits."""


class PostgresFastPath:
    """An asyncpg connection pool of this process."""

    def __init__(self, dsn: str, dialect: Dialect) -> None:
        self.dialect = dialect
        self._dsn = dsn
        self._pool: _ConnectionPool | None = None
        self._pending: list[_Pending] = []
        self._flushing: asyncio.Future[None] | None = None
        self._waiting: dict[Prepared, list[_Call]] = {}
        """Per gathered statement in flight, the calls that arrived since it was sent."""
        self._gathering: set[asyncio.Future[None]] = set()

    def _get_pool(self) -> _ConnectionPool:
        if self._pool is None:
            import asyncpg  # type: ignore[import-untyped]

            self._pool = _ConnectionPool(partial(asyncpg.connect, self._dsn), POSTGRES_POOL_MAX)
        return self._pool

    async def _on_connection(self, pool: _ConnectionPool, run: Callable[[Any], Awaitable[T]]) -> T:
        connection = await pool.acquire()
        return await _then_release(pool, connection, run(connection))

    async def _with_retry(self, run: Callable[[Any], Awaitable[T]]) -> T:
        pool = self._get_pool()
        try:
            return await self._on_connection(pool, run)
        except _lost_connection():
            # a connection the server dropped (a restart, a fail-over): one more try on a fresh one. Safe for these
            # statements: upserts and deletes are idempotent, and a take/consume whose first try did commit finds
            # nothing the second time (never a second redemption)
            pool.discard_idle()
            return await self._on_connection(pool, run)

    async def fetch(self, prepared: Prepared, values: Mapping[str, Any], write: bool) -> dict[str, Any] | None:
        compiled = prepared.compiled(self.dialect)
        if prepared.gathered is not None:
            return await self._gathered(prepared, compiled, values)
        parameters = compiled.parameters(values)
        if write and not compiled.columns:
            await self._grouped(compiled, parameters)
            return None
        return await self._run(compiled, parameters)

    async def _run(self, compiled: Compiled, parameters: list[Any]) -> dict[str, Any] | None:
        row = await self._with_retry(lambda connection: connection.fetchrow(compiled.sql, *parameters))
        return compiled.row(tuple(row.values()) if row is not None else None)

    async def _gathered(
        self, prepared: Prepared, compiled: Compiled, values: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Run now if nothing of this statement is in flight; else wait for the next gathered run."""
        waiting = self._waiting.get(prepared)
        if waiting is not None:
            future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
            waiting.append((values, future))
            return await future
        self._waiting[prepared] = []
        try:
            return await self._run(compiled, compiled.parameters(values))
        finally:
            self._next_gathered(prepared)

    def _next_gathered(self, prepared: Prepared) -> None:
        if self._waiting[prepared]:
            task = asyncio.ensure_future(self._run_gathered(prepared))
            self._gathering.add(task)  # held until done: the loop keeps only weak references to tasks
            task.add_done_callback(self._gathering.discard)
        else:
            del self._waiting[prepared]

    async def _run_gathered(self, prepared: Prepared) -> None:
        """Run the waiting calls together, and again for those that arrive meanwhile, until none is left."""
        while calls := self._waiting[prepared]:
            self._waiting[prepared] = []
            try:
                await self._run_together(prepared, calls)
            except BaseException:  # cancelled (a shut-down): no caller is left waiting
                for _, future in (*calls, *self._waiting.pop(prepared)):
                    future.cancel()
                raise
        del self._waiting[prepared]

    async def _run_together(self, prepared: Prepared, calls: list[_Call]) -> None:
        gathered = prepared.gathered
        if gathered is None:  # only statements with a gathered form wait to be gathered
            raise TypeError("a statement without a gathered form")
        firsts: dict[Any, Mapping[str, Any]] = {}
        for values, _ in calls:
            firsts.setdefault(values[gathered.parameter], values)
        # in key order, as the grouped writes: two processes' statements lock shared rows in the same order
        unique = [firsts[key] for key in sorted(firsts, key=str)]
        many = prepared.gathered_compiled(gathered, self.dialect)
        try:
            arrays = many.parameters({name: [values[name] for values in unique] for name in many.names})
            records = await self._with_retry(lambda connection: connection.fetch(many.sql, *arrays))
        except Exception as error:
            if _is_unreachable(error):  # no server to be had: every call fails with it
                _settle((future for _, future in calls), error)
                return
            # a bad value fails the whole statement: each call again on its own, so that only its own fails
            for values, future in calls:
                if future.done():  # its caller was cancelled: a take must not run for no one
                    continue
                try:
                    compiled = prepared.compiled(self.dialect)
                    row = await self._run(compiled, compiled.parameters(values))
                except Exception as own_error:
                    _settle([future], own_error)
                else:
                    _settle([future], row)
            return
        rows: dict[Any, dict[str, Any]] = {}
        for record in records:
            row = many.present_row(tuple(record.values()))
            rows.setdefault(row[gathered.column], row)
        for values, future in calls:
            if future.done():  # its caller was cancelled: the row goes to the next call of its key, if any
                continue
            key = values[gathered.parameter]
            if gathered.once:  # the first call of its key takes the row; the others find it gone
                _settle([future], rows.pop(key, None))
            else:
                found = rows.get(key)
                _settle([future], dict(found) if found is not None else None)

    async def _grouped(self, compiled: Compiled, parameters: list[Any]) -> None:
        """A change that returns nothing joins the next group: the same statements that arrive while one group
        is written go to the server together (asyncpg's pipelined ``executemany``: one round trip, one commit)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((compiled, parameters, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.ensure_future(self._flush())
        await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            groups: dict[str, list[_Pending]] = {}
            for entry in batch:
                groups.setdefault(entry[0].sql, []).append(entry)
            try:
                for group in groups.values():
                    await self._write_group(group)
            except asyncio.CancelledError:
                for _, _, future in batch:
                    future.cancel()
                raise

    async def _write_group(self, group: list[_Pending]) -> None:
        if len(group) > 1:
            try:
                if await self._write_together(group):
                    return
            except Exception as error:  # no connection to be had: the whole group fails with it
                _settle((future for _, _, future in group), error)
                return
        unreachable: Exception | None = None
        for compiled, parameters, future in group:  # each on its own, so that only a failing one fails
            if future.done():
                continue
            if unreachable is not None:  # rather than waiting for the same unreachable server once per change
                future.set_exception(unreachable)
                continue
            try:
                await self._run(compiled, parameters)
            except Exception as error:
                if not _is_server_error(error):
                    unreachable = error
                future.set_exception(error)
            else:
                future.set_result(None)

    async def _write_together(self, group: list[_Pending]) -> bool:
        """One pipelined ``executemany``, which is atomic: ``False`` when it failed and nothing of it was written
        (or, its connection lost, maybe all of it: the changes are idempotent and are run again)."""
        # the same order in every process, so that two groups touching the same rows never deadlock
        position = group[0][0].key_position
        group.sort(key=lambda entry: str(entry[1][position]) if entry[1] else "")
        pool = self._get_pool()
        connection = await pool.acquire()
        rows = [parameters for _, parameters, _ in group]
        try:
            await _then_release(pool, connection, connection.executemany(group[0][0].sql, rows))
        except Exception:
            return False
        _settle((future for _, _, future in group), None)
        return True

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


async def _then_release(pool: _ConnectionPool, connection: Any, work: Awaitable[T]) -> T:
    """Await ``work`` on a connection of the pool, then give the connection back."""
    try:
        result = await work
    except BaseException as error:
        # a server-side error (a constraint, a bad value) leaves the connection usable; anything else
        # (cancellation, a lost connection) may leave it mid-protocol
        pool.release(connection, broken=not _is_server_error(error))
        raise
    pool.release(connection)
    return result


def _settle(futures: Iterable[asyncio.Future[Any]], outcome: Any) -> None:
    """Answer each caller still waiting with ``outcome`` (fast_path.answer)."""
    for future in futures:
        answer(future, outcome)


def _lost_connection() -> tuple[type[BaseException], ...]:
    import asyncpg

    return (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError, asyncpg.OperatorInterventionError)


def _is_unreachable(error: BaseException) -> bool:
    """The connection failed, not the statement: a value the driver or the server refuses is neither."""
    return isinstance(error, _lost_connection()) and not isinstance(error, ValueError)  # asyncpg's DataError


def _is_server_error(error: BaseException) -> bool:
    import asyncpg

    return isinstance(error, asyncpg.PostgresError) and not isinstance(
        error, asyncpg.PostgresConnectionError | asyncpg.OperatorInterventionError
    )
