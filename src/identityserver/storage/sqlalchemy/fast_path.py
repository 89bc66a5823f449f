"""Single-statement queries of the hot stores, prepared once and run on the driver's connection (issue 15).

Why: every code, refresh token, reference token, consent and PAR record is one statement (an upsert, a point
``SELECT``, a ``DELETE``/``UPDATE ... RETURNING``), and SQLAlchemy's execution path (pool checkout with a
pre-ping round trip on PostgreSQL, ``BEGIN``/``COMMIT`` as statements of their own, the compiled-cache lookup,
result objects) costs 5 to 40 times the statement itself (``bench/store_path.py``, docs/performance.md). A
:class:`Prepared` statement is compiled once per dialect with SQLAlchemy, keeping its bind and result type
processors, and runs as one autocommit statement, which is atomic on its own:

- SQLite: on two connections of the process's own (one reading, one writing) driven inline on the loop's
  thread (``sqlite_inline.py``). Changes are group-committed: those that arrive while a commit is being
  written share the next transaction (each in a savepoint), so 64 concurrent token requests pay for a few
  commits, not 64; in-process writers queue on the database's writer lock instead of polling the busy
  handler. In-memory databases (one per connection) use the SQLAlchemy path.
- PostgreSQL: on an asyncpg pool, whose connections cache prepared statements (one ``Parse`` per statement and
  connection) and are replaced after a failure, without a pre-ping. Changes that return nothing (the upserts and
  deletes of ``store``/``remove``) are grouped the same way: those that arrive while a group is written go
  together as one pipelined ``executemany`` (one round trip and one commit for the group, atomic); a group that
  fails is run again one statement at a time, so that only a failing change fails.

Inside :meth:`Database.exclusive_lock` the statement runs on the lock's connection, through SQLAlchemy."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

if TYPE_CHECKING:
    import sqlite3

    from identityserver.storage.sqlalchemy.async_bridge import AsyncConnection
    from identityserver.storage.sqlalchemy.sqlite_inline import InlineConnection

T = TypeVar("T")
Processor = Callable[[Any], Any] | None
Writer = Callable[[int], AbstractAsyncContextManager[None]]
"""Holds this process's SQLite writer lock for a number of statements (``Database._sqlite_writer``)."""

POSTGRES_POOL_MAX = 10
"""asyncpg connections per process for the fast path (SQLAlchemy's pool, for everything else, is separate)."""


READER_CACHE_KIB = 512
"""Page cache of the reading connection (SQLite's default, kept by the writer, is 2,000 KiB). SQLite discards a
connection's cache whenever another connection has committed since its last read, which for the reader is every
group commit of the writer (and every commit of another worker): a larger cache mostly holds pages thrown away
before they are read again, and the operating system's page cache serves the re-reads. The writer's own commits
do not reset its cache, and a smaller one measured about 4 % fewer reference tokens a second."""


class _Compiled:
    __slots__ = ("binds", "columns", "key_position", "names", "results", "sql")

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, cast(ClauseElement, statement).compile(dialect=dialect))
        if compiled.implicit_returning:
            # an INSERT that asked for no result: without the primary key SQLAlchemy would add as RETURNING on
            # PostgreSQL, it returns nothing and can join a group of writes (PostgresFastPath)
            compiled = cast(SQLCompiler, cast(ClauseElement, statement).compile(dialect=dialect, for_executemany=True))
        self.sql = compiled.string
        # both dialects' parameter styles (qmark, numeric_dollar) are positional
        self.names: Sequence[str] = compiled.positiontup or ()
        # the row's key among the parameters (else the first): grouped writes are ordered by it
        self.key_position = next((i for i, name in enumerate(self.names) if name.lower() == "key"), 0)
        self.binds: list[Processor] = [
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self.names
        ]
        result_columns = compiled._result_columns or []  # (key, name, objects, type) per returned column
        self.columns = [entry[0] for entry in result_columns]
        self.results: list[Processor] = [
            entry[3].dialect_impl(dialect).result_processor(dialect, None) for entry in result_columns
        ]

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, process in zip(self.names, self.binds, strict=True):
            value = values[name]
            out.append(process(value) if process is not None and value is not None else value)
        return out

    def row(self, raw: Sequence[Any] | None) -> dict[str, Any] | None:
        if raw is None:
            return None
        return {
            column: process(value) if process is not None and value is not None else value
            for column, process, value in zip(self.columns, self.results, raw, strict=True)
        }


class Prepared:
    """One SQLAlchemy statement with named ``bindparam`` values, compiled once per dialect."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _Compiled(self.statement, dialect)
        return found


async def run_on(conn: AsyncConnection, prepared: Prepared, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """The SQLAlchemy path (a held lock's connection, an in-memory database): the first row, as a dict."""
    result = await conn.execute(prepared.statement, dict(values))
    if not result.returns_rows:
        return None
    row = result.mappings().first()
    return dict(row) if row is not None else None


class SqliteFastPath:
    """A reading and a writing connection of this process to a SQLite file, used inline."""

    def __init__(self, path: str, busy_timeout_s: float, dialect: Dialect) -> None:
        self.dialect = dialect
        self._path = path
        self._busy_timeout_s = busy_timeout_s
        self._reader: InlineConnection | None = None
        self._writer: InlineConnection | None = None
        self._pending: list[tuple[_Compiled, list[Any], asyncio.Future[dict[str, Any] | None]]] = []
        self._flushing: asyncio.Future[None] | None = None

    def _connect(self, cache_kib: int = 2000) -> InlineConnection:
        # imported here, not with the module: a PostgreSQL worker never loads sqlite3 (and libsqlite3)
        import sqlite3

        from identityserver.storage.sqlalchemy.sqlite_inline import InlineConnection

        raw = sqlite3.connect(self._path, timeout=0, isolation_level=None, check_same_thread=False)
        connection = InlineConnection(raw, self._busy_timeout_s)
        pragmas = ("foreign_keys = ON", "journal_mode = WAL", "synchronous = NORMAL", "wal_autocheckpoint = 0")
        for pragma in (*pragmas, f"cache_size = -{cache_kib}"):
            raw.execute(f"PRAGMA {pragma}").fetchall()
        return connection

    async def fetch(self, prepared: Prepared, values: Mapping[str, Any], write: bool) -> dict[str, Any] | None:
        compiled = prepared.compiled(self.dialect)
        connection = self._reader = self._reader or self._connect(READER_CACHE_KIB)
        parameters = compiled.parameters(values)
        cursor = await connection.retry_busy(lambda: connection.raw.execute(compiled.sql, parameters))
        try:
            return _first(compiled, cursor)
        finally:
            cursor.close()

    async def write(self, prepared: Prepared, values: Mapping[str, Any], writer: Writer) -> dict[str, Any] | None:
        """Run a changing statement in the next group commit: the statements that arrive while one commit is
        written share the next one. A statement that fails fails alone, as on its own: the batch is then replayed
        with each statement in a savepoint of its own."""
        compiled = prepared.compiled(self.dialect)
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._pending.append((compiled, compiled.parameters(values), future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.ensure_future(self._flush(writer))
        return await future

    async def _flush(self, writer: Writer) -> None:
        while self._pending:
            async with writer(len(self._pending)):
                batch, self._pending = self._pending, []
                connection = self._writer = self._writer or self._connect()
                try:
                    outcomes = await _commit(connection, batch, _plain)
                except _StatementFailed:
                    # replayed from the start, each statement in a savepoint: the failing one alone is undone
                    try:
                        outcomes = await _commit(connection, batch, _in_savepoint)
                    except Exception as error:
                        outcomes = [error] * len(batch)
                except Exception as error:
                    outcomes = [error] * len(batch)
                for (_, _, future), outcome in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue
                    if isinstance(outcome, Exception):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)

    async def close(self) -> None:
        for connection in (self._reader, self._writer):
            if connection is not None:
                await connection.close()
        self._reader = self._writer = None


def _first(compiled: _Compiled, cursor: sqlite3.Cursor) -> dict[str, Any] | None:
    return compiled.row(cursor.fetchone()) if cursor.description else None


class _StatementFailed(Exception):
    """A statement of an optimistic batch failed: the transaction was rolled back."""


async def _commit(
    connection: InlineConnection,
    batch: Sequence[tuple[_Compiled, list[Any], Any]],
    run: Callable[[sqlite3.Connection, _Compiled, list[Any]], Any],
) -> list[Any]:
    """One transaction of the batch's statements; rolled back if anything raises."""
    raw = connection.raw
    try:
        await connection.retry_busy(partial(raw.execute, "BEGIN IMMEDIATE"))
        outcomes = [run(raw, compiled, parameters) for compiled, parameters, _ in batch]
        await connection.retry_busy(partial(raw.execute, "COMMIT"))
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
    return outcomes


def _run(raw: sqlite3.Connection, compiled: _Compiled, parameters: list[Any]) -> dict[str, Any] | None:
    """Execute the statement; its first row, if it returns any."""
    cursor = raw.execute(compiled.sql, parameters)
    try:
        return _first(compiled, cursor)
    finally:
        cursor.close()


def _plain(raw: sqlite3.Connection, compiled: _Compiled, parameters: list[Any]) -> Any:
    """The statement's first row. Why no savepoint: two more statements per change cost about a fifth of an
    insert, and a failing statement is rare; when one fails the batch is replayed with savepoints (``_flush``)."""
    try:
        return _run(raw, compiled, parameters)
    except Exception as error:
        raise _StatementFailed from error


def _in_savepoint(raw: sqlite3.Connection, compiled: _Compiled, parameters: list[Any]) -> Any:
    """The statement's first row, or the error it raised (its changes then undone, the batch's kept)."""
    raw.execute("SAVEPOINT one_statement")
    try:
        outcome: Any = _run(raw, compiled, parameters)
    except Exception as error:
        raw.execute("ROLLBACK TO one_statement")
        outcome = error
    raw.execute("RELEASE one_statement")
    return outcome


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


_Pending = tuple[_Compiled, list[Any], asyncio.Future[None]]
"""A grouped change: its statement, its parameters, and the future its caller awaits."""


class PostgresFastPath:
    """An asyncpg connection pool of this process."""

    def __init__(self, dsn: str, dialect: Dialect) -> None:
        self.dialect = dialect
        self._dsn = dsn
        self._pool: _ConnectionPool | None = None
        self._pending: list[_Pending] = []
        self._flushing: asyncio.Future[None] | None = None

    def _get_pool(self) -> _ConnectionPool:
        if self._pool is None:
            import asyncpg  # type: ignore[import-untyped]

            self._pool = _ConnectionPool(partial(asyncpg.connect, self._dsn), POSTGRES_POOL_MAX)
        return self._pool

    async def _fetchrow(self, pool: _ConnectionPool, compiled: _Compiled, parameters: list[Any]) -> Any:
        connection = await pool.acquire()
        return await _then_release(pool, connection, connection.fetchrow(compiled.sql, *parameters))

    async def fetch(self, prepared: Prepared, values: Mapping[str, Any], write: bool) -> dict[str, Any] | None:
        compiled = prepared.compiled(self.dialect)
        parameters = compiled.parameters(values)
        if write and not compiled.columns:
            await self._grouped(compiled, parameters)
            return None
        return await self._run(compiled, parameters)

    async def _run(self, compiled: _Compiled, parameters: list[Any]) -> dict[str, Any] | None:
        pool = self._get_pool()
        try:
            row = await self._fetchrow(pool, compiled, parameters)
        except _lost_connection():
            # a connection the server dropped (a restart, a fail-over): one more try on a fresh one. Safe for these
            # statements: upserts and deletes are idempotent, and a take/consume whose first try did commit finds
            # nothing the second time (never a second redemption)
            pool.discard_idle()
            row = await self._fetchrow(pool, compiled, parameters)
        return compiled.row(tuple(row.values()) if row is not None else None)

    async def _grouped(self, compiled: _Compiled, parameters: list[Any]) -> None:
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
                _settle(group, error)
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
        _settle(group, None)
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


def _settle(group: Sequence[_Pending], error: Exception | None) -> None:
    for _, _, future in group:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def _lost_connection() -> tuple[type[BaseException], ...]:
    import asyncpg

    return (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError, asyncpg.OperatorInterventionError)


def _is_server_error(error: BaseException) -> bool:
    import asyncpg

    return isinstance(error, asyncpg.PostgresError) and not isinstance(
        error, asyncpg.PostgresConnectionError | asyncpg.OperatorInterventionError
    )
