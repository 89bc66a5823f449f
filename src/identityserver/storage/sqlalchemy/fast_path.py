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
- PostgreSQL: on an asyncpg pool of the process's own (``postgres_fast_path.py``), where changes and reads
  that arrive together also share round trips.

Inside :meth:`Database.exclusive_lock` the statement runs on the lock's connection, through SQLAlchemy."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ARRAY, Column, String, any_, bindparam, select
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

if TYPE_CHECKING:
    import sqlite3

    from identityserver.storage.sqlalchemy.async_bridge import AsyncConnection
    from identityserver.storage.sqlalchemy.sqlite_inline import InlineConnection

Processor = Callable[[Any], Any] | None
Writer = Callable[[int], AbstractAsyncContextManager[None]]
"""Holds this process's SQLite writer lock for a number of statements (``Database._sqlite_writer``)."""
Then = Sequence[tuple["Compiled", list[Any]]]
"""Statements that run after a change, in its transaction, only when the one before returned a row."""

READER_CACHE_KIB = 512
"""Page cache of the reading connection (SQLite's default, kept by the writer, is 2,000 KiB). SQLite discards a
connection's cache whenever another connection has committed since its last read, which for the reader is every
group commit of the writer (and every commit of another worker): a larger cache mostly holds pages thrown away
before they are read again, and the operating system's page cache serves the re-reads. The writer's own commits
do not reset its cache, and a smaller one measured about 4 % fewer reference tokens a second."""


class Compiled:
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
        return None if raw is None else self.present_row(raw)

    def present_row(self, raw: Sequence[Any]) -> dict[str, Any]:
        return {
            column: process(value) if process is not None and value is not None else value
            for column, process, value in zip(self.columns, self.results, raw, strict=True)
        }


@dataclass(frozen=True)
class Gathered:
    """The form of a statement that runs once for many calls (PostgreSQL: ``= ANY($1)``, ``unnest($1, $2)``), each
    of its parameters an array of the calls' values (postgres_fast_path.py)."""

    statement: Executable
    parameter: str
    """The call's value that picks its rows..."""
    column: str
    """...and the result column that holds it."""
    once: bool = False
    """A statement that takes or consumes a row: of several calls with the same key, the first gets the row."""


class Prepared:
    """One SQLAlchemy statement with named ``bindparam`` values, compiled once per dialect; ``gathered``, its form
    for many calls at once, which the PostgreSQL fast path runs for the calls that arrive while one is in flight."""

    def __init__(self, statement: Executable, gathered: Gathered | None = None) -> None:
        self.statement = statement
        self.gathered = gathered
        self._compiled: dict[str, Compiled] = {}
        self._gathered: dict[str, Compiled] = {}

    def compiled(self, dialect: Dialect) -> Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = Compiled(self.statement, dialect)
        return found

    def gathered_compiled(self, gathered: Gathered, dialect: Dialect) -> Compiled:
        """``gathered`` (this statement's own form), compiled once per dialect."""
        found = self._gathered.get(dialect.name)
        if found is None:
            found = self._gathered[dialect.name] = Compiled(gathered.statement, dialect)
        return found


def point_read(column: Column[Any], parameter: str) -> Prepared:
    """The rows of ``column``'s table whose ``column`` equals the value ``parameter``; the reads that arrive
    together on PostgreSQL run as one ``column = ANY($1)``."""
    table = column.table
    return Prepared(
        select(table).where(column == bindparam(parameter, type_=column.type)),
        Gathered(
            select(table).where(column == any_(bindparam(parameter, type_=ARRAY(String())))), parameter, column.name
        ),
    )


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
        self._pending: list[tuple[Compiled, list[Any], asyncio.Future[dict[str, Any] | None], Then]] = []
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

    async def write(
        self,
        prepared: Prepared,
        values: Mapping[str, Any],
        writer: Writer,
        then: Sequence[tuple[Prepared, Mapping[str, Any]]] = (),
    ) -> dict[str, Any] | None:
        """Run a changing statement in the next group commit: the statements that arrive while one commit is
        written share the next one. A statement that fails fails alone, as on its own: the batch is then replayed
        with each statement in a savepoint of its own. ``then``: statements that run right after it, as one step
        with it (each only when the one before returned a row)."""
        compiled = prepared.compiled(self.dialect)
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        more = [_bound(next_statement.compiled(self.dialect), next_values) for next_statement, next_values in then]
        self._pending.append((compiled, compiled.parameters(values), future, more))
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
                for (_, _, future, _), outcome in zip(batch, outcomes, strict=True):
                    answer(future, outcome)

    async def close(self) -> None:
        for connection in (self._reader, self._writer):
            if connection is not None:
                await connection.close()
        self._reader = self._writer = None


def _bound(compiled: Compiled, values: Mapping[str, Any]) -> tuple[Compiled, list[Any]]:
    return compiled, compiled.parameters(values)


def answer(future: asyncio.Future[Any], outcome: Any) -> None:
    """Answer a caller still waiting (one whose task was cancelled is done already) with ``outcome``: a result, or
    the exception to raise."""
    if future.done():
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _first(compiled: Compiled, cursor: sqlite3.Cursor) -> dict[str, Any] | None:
    return compiled.row(cursor.fetchone()) if cursor.description else None


class _StatementFailed(Exception):
    """A statement of an optimistic batch failed: the transaction was rolled back."""


async def _commit(
    connection: InlineConnection,
    batch: Sequence[tuple[Compiled, list[Any], Any, Then]],
    run: Callable[[sqlite3.Connection, Compiled, list[Any], Then], Any],
) -> list[Any]:
    """One transaction of the batch's statements; rolled back if anything raises."""
    raw = connection.raw
    try:
        await connection.retry_busy(partial(raw.execute, "BEGIN IMMEDIATE"))
        outcomes = [run(raw, compiled, parameters, then) for compiled, parameters, _, then in batch]
        await connection.retry_busy(partial(raw.execute, "COMMIT"))
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
    return outcomes


def _run(raw: sqlite3.Connection, compiled: Compiled, parameters: list[Any], then: Then = ()) -> dict[str, Any] | None:
    """Execute the statement, and ``then`` while each returns a row; the first statement's first row."""
    cursor = raw.execute(compiled.sql, parameters)
    try:
        row = _first(compiled, cursor)
    finally:
        cursor.close()
    found = row
    for more, values in then:
        if found is None:
            break
        found = _run(raw, more, values)
    return row


def _plain(raw: sqlite3.Connection, compiled: Compiled, parameters: list[Any], then: Then) -> Any:
    """The statement's first row. Why no savepoint: two more statements per change cost about a fifth of an
    insert, and a failing statement is rare; when one fails the batch is replayed with savepoints (``_flush``)."""
    try:
        return _run(raw, compiled, parameters, then)
    except Exception as error:
        raise _StatementFailed from error


def _in_savepoint(raw: sqlite3.Connection, compiled: Compiled, parameters: list[Any], then: Then) -> Any:
    """The statement's first row, or the error it raised (its changes then undone, the batch's kept)."""
    raw.execute("SAVEPOINT one_statement")
    try:
        outcome: Any = _run(raw, compiled, parameters, then)
    except Exception as error:
        raw.execute("ROLLBACK TO one_statement")
        outcome = error
    raw.execute("RELEASE one_statement")
    return outcome
