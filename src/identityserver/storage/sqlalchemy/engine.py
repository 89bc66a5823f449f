"""The database connection: plain URLs to async drivers, SQLite pragmas, one engine per process, and the
transaction helpers the stores share (Duende ``DbContext`` lifetime, at Python's scale)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url

from identityserver._utils.extras import require_extra
from identityserver.storage.sqlalchemy.async_bridge import AsyncConnection, AsyncEngine, create_async_engine
from identityserver.storage.sqlalchemy.fast_path import Prepared, SqliteFastPath, run_on
from identityserver.storage.sqlalchemy.postgres_fast_path import PostgresFastPath

if TYPE_CHECKING:
    from identityserver.storage.sqlalchemy.sqlite_inline import WalCheckpointer

DEFAULT_DATABASE_FILE = "identityserver.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


class DatabaseUrlError(ValueError):
    """The database URL names an unsupported database or driver."""


def default_database_url(state_path: str | Path) -> str:
    """The embedded SQLite database under the state folder (``./.identityserver/identityserver.db``)."""
    return f"sqlite:///{Path(state_path) / DEFAULT_DATABASE_FILE}"


def to_async_url(database_url: str) -> URL:
    """``sqlite:///path`` -> ``sqlite+aiosqlite``, ``postgresql://`` (or ``postgres://``) -> ``postgresql+asyncpg``.

    Any other database is refused."""
    try:
        url = make_url(database_url)
    except Exception as exc:
        raise DatabaseUrlError(f"not a database URL: {database_url!r}") from exc
    backend = url.drivername.partition("+")[0]
    if backend not in _ASYNC_DRIVERS:
        raise DatabaseUrlError(f"unsupported database {backend!r} (use sqlite:///FILE or postgresql://...)")
    # a sync driver named in the URL (psycopg2, pysqlite) is replaced by the async one this server uses
    return url.set(drivername=_ASYNC_DRIVERS[backend])


def require_driver(url: URL) -> None:
    """Raise ``MissingExtraError`` when the driver of ``url`` is an extra that is not installed."""
    if url.get_backend_name() == "postgresql":
        require_extra("asyncpg")


def describe(url: URL) -> str:
    """The URL without its password, for messages."""
    return url.render_as_string(hide_password=True)


def _sqlite_path(url: URL) -> str | None:
    database = url.database
    return database if database and database != ":memory:" and not database.startswith("file:") else None


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine. SQLite gets WAL, a busy timeout, foreign keys, statements run inline on the loop's
    thread, and explicit ``BEGIN`` statements so that transactions (``BEGIN IMMEDIATE`` for writers) behave as
    documented."""
    url = to_async_url(database_url)
    require_driver(url)
    if url.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **kwargs)
    path = _sqlite_path(url)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # the database holds secret hashes and key material: owner-only, like the state folder's key files
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    # statements run on the loop's thread, a busy lock is waited for with asyncio sleeps (sqlite_inline.py);
    # the connections are in autocommit mode (no implicit BEGIN from the driver; see _on_begin). Imported
    # here and not with the module, so that a PostgreSQL worker never loads sqlite3 (about 1 MiB of RSS).
    from identityserver.storage.sqlalchemy.sqlite_inline import inline_creator

    kwargs.setdefault("async_creator", inline_creator(url.database or ":memory:", SQLITE_BUSY_TIMEOUT_MS / 1000))
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        if path is not None:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA wal_autocheckpoint = 0")  # Database checkpoints in a thread (WalCheckpointer)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("identityserver_sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


_held: ContextVar[dict[int, AsyncConnection] | None] = ContextVar("identityserver_db_lock", default=None)
_preparing: ContextVar[bool] = ContextVar("identityserver_db_preparing", default=False)


class Database:
    """One database for the stores of a process. The engine is created lazily (per process, so that
    worker processes never share a connection pool) and disposed by :meth:`dispose`."""

    def __init__(
        self,
        database_url: str,
        prepare: Callable[[Database], Awaitable[None]] | None = None,
        **engine_kwargs: Any,
    ) -> None:
        """``prepare`` runs once per process before the first statement (e.g. the start-up schema check)."""
        self.url = to_async_url(database_url)
        require_driver(self.url)
        self._backend = self.url.get_backend_name()
        self.database_url = database_url
        self._engine_kwargs = engine_kwargs
        self._engine: AsyncEngine | None = None
        self._pid = 0
        self._prepare = prepare
        self._prepared_pid = 0
        self._prepare_lock: asyncio.Lock | None = None
        self._fast: SqliteFastPath | PostgresFastPath | None = None
        self._fast_key: tuple[int, int] = (0, 0)
        path = _sqlite_path(self.url) if self.dialect == "sqlite" else None
        self._checkpointer: WalCheckpointer | None = None
        if path:
            from identityserver.storage.sqlalchemy.sqlite_inline import WalCheckpointer

            self._checkpointer = WalCheckpointer(path)
        self._writer_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    async def prepare(self) -> None:
        """Run the ``prepare`` step if this process has not run it yet (concurrent callers wait for it)."""
        if self._prepare is None or self._prepared_pid == os.getpid() or _preparing.get():
            return
        if self._prepare_lock is None:
            self._prepare_lock = asyncio.Lock()
        async with self._prepare_lock:
            if self._prepared_pid == os.getpid():
                return
            token = _preparing.set(True)
            try:
                await self._prepare(self)
            finally:
                _preparing.reset(token)
            self._prepared_pid = os.getpid()

    @property
    def dialect(self) -> str:
        return self._backend

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None or self._pid != os.getpid():
            self._engine = create_engine(self.database_url, **self._engine_kwargs)
            self._pid = os.getpid()
        return self._engine

    async def dispose(self) -> None:
        if self._fast is not None and self._fast_key == (os.getpid(), id(asyncio.get_running_loop())):
            await self._fast.close()
        self._fast = None
        if self._engine is not None and self._pid == os.getpid():
            await self._engine.dispose()
        self._engine = None

    def _fast_path(self) -> SqliteFastPath | PostgresFastPath | None:
        """This process's (and loop's) driver connections for :meth:`fetch_one`; ``None`` for in-memory SQLite."""
        key = (os.getpid(), id(asyncio.get_running_loop()))
        if self._fast is None or self._fast_key != key:
            dialect = self.engine.dialect
            if self.dialect == "postgresql":
                dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
                self._fast = PostgresFastPath(dsn, dialect)
            else:
                path = _sqlite_path(self.url)
                self._fast = SqliteFastPath(path, SQLITE_BUSY_TIMEOUT_MS / 1000, dialect) if path else None
            self._fast_key = key
        return self._fast

    async def fetch_one(
        self,
        prepared: Prepared,
        values: Mapping[str, Any],
        *,
        write: bool = False,
        then: Sequence[tuple[Prepared, Mapping[str, Any]]] = (),
    ) -> dict[str, Any] | None:
        """Run one statement on its own (atomic, committed at once; ``write`` for statements that change rows)
        on the driver's connection (fast_path.py) and return its first row, if it returns any. ``then``: changes
        made in the same transaction, each only when the statement before it returned a row."""
        held = self._held_connection()
        if held is not None:
            return await _run_then(held, prepared, values, then)
        if self._prepare is not None and self._prepared_pid != os.getpid():
            await self.prepare()
        fast = self._fast_path()
        if write and isinstance(fast, SqliteFastPath):
            return await fast.write(prepared, values, self._sqlite_writer, then)
        if fast is None or then:
            async with self.write() if write or then else self.read() as conn:
                return await _run_then(conn, prepared, values, then)
        return await fast.fetch(prepared, values, write)

    async def fetch_before_prepare(self, prepared: Prepared, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """``fetch_one`` of a statement that needs no schema (the server's clock), without running the ``prepare``
        step first: what it reads comes before what that step writes."""
        token = _preparing.set(True)
        try:
            return await self.fetch_one(prepared, values)
        finally:
            _preparing.reset(token)

    @contextlib.asynccontextmanager
    async def _sqlite_writer(self, statements: int = 1) -> AsyncIterator[None]:
        """This process's writers to a SQLite database take turns here rather than polling for the file's
        write lock (which then only other processes can hold)."""
        if self.dialect != "sqlite":
            yield
            return
        loop = asyncio.get_running_loop()
        lock = self._writer_locks.get(loop)
        if lock is None:
            lock = self._writer_locks[loop] = asyncio.Lock()
        if self._checkpointer is not None:
            self._checkpointer.note_write(statements, lock)
        try:
            if lock.locked():
                await asyncio.wait_for(lock.acquire(), SQLITE_BUSY_TIMEOUT_MS / 1000)
            else:
                await lock.acquire()  # uncontended: no timer task
        except TimeoutError:
            import sqlite3

            raise sqlite3.OperationalError("database is locked (by a writer of this process)") from None
        try:
            yield
        finally:
            lock.release()

    def __repr__(self) -> str:
        return f"Database({describe(self.url)!r})"

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a (deferred) transaction, or the one of a lock this task holds."""
        held = self._held_connection()
        if held is not None:
            yield held
            return
        await self.prepare()
        async with self.engine.begin() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on exit."""
        held = self._held_connection()
        if held is not None:
            yield held
            return
        await self.prepare()
        async with self._sqlite_writer(), self.engine.connect() as plain:
            conn = plain
            if self.dialect == "sqlite":
                conn = await plain.execution_options(identityserver_sqlite_begin="IMMEDIATE")
            async with conn.begin():
                yield conn

    @contextlib.asynccontextmanager
    async def exclusive_lock(self, name: str) -> AsyncIterator[AsyncConnection]:
        """An exclusive lock across processes, held until the block ends: ``pg_advisory_xact_lock`` on
        PostgreSQL, a write transaction on SQLite. Store calls made by this task inside the block run in the
        lock's transaction, so they never wait for the lock themselves."""
        held = self._held_connection()
        if held is not None:
            yield held
            return
        async with self.write() as conn:
            if self.dialect == "postgresql":
                lock_id = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
                await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
            mapping = dict(_held.get() or {})
            mapping[id(self)] = conn
            token = _held.set(mapping)
            try:
                yield conn
            finally:
                _held.reset(token)

    def _held_connection(self) -> AsyncConnection | None:
        mapping = _held.get()
        return mapping.get(id(self)) if mapping else None


async def _run_then(
    conn: AsyncConnection,
    prepared: Prepared,
    values: Mapping[str, Any],
    then: Sequence[tuple[Prepared, Mapping[str, Any]]],
) -> dict[str, Any] | None:
    """``prepared`` and then each of ``then`` while the one before returned a row, on one connection (its
    transaction makes them one step); the first statement's row."""
    row = found = await run_on(conn, prepared, values)
    for more, more_values in then:
        if found is None:
            break
        found = await run_on(conn, more, more_values)
    return row
