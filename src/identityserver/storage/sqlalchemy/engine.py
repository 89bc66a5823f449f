"""The database connection: plain URLs to async drivers, SQLite pragmas, one engine per process, and the
transaction helpers the stores share (Duende ``DbContext`` lifetime, at Python's scale)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from identityserver._utils.extras import require_extra

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
    """An async engine. SQLite gets WAL, a busy timeout, foreign keys, and explicit ``BEGIN`` statements so
    that transactions (``BEGIN IMMEDIATE`` for writers) behave as documented."""
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
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN from the driver; see _on_begin
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if path is not None:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
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
        self.database_url = database_url
        self._engine_kwargs = engine_kwargs
        self._engine: AsyncEngine | None = None
        self._pid = 0
        self._prepare = prepare
        self._prepared_pid = 0
        self._prepare_lock: asyncio.Lock | None = None

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
        return self.url.get_backend_name()

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None or self._pid != os.getpid():
            self._engine = create_engine(self.database_url, **self._engine_kwargs)
            self._pid = os.getpid()
        return self._engine

    async def dispose(self) -> None:
        if self._engine is not None and self._pid == os.getpid():
            await self._engine.dispose()
        self._engine = None

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
        async with self.engine.connect() as plain:
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
