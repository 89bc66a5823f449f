"""SQLAlchemy Core driven from asyncio: the part of ``sqlalchemy.ext.asyncio`` the stores use, over the same
bridge (``greenlet_spawn`` runs the synchronous Core API in a greenlet whose driver calls await on the loop).

Why not ``sqlalchemy.ext.asyncio`` itself: importing it imports the ORM for ``AsyncSession``, about 8 MiB of
every worker's memory that nothing here uses (docs/performance-stored-grants.md, sixth pass). What this module
adds is only the async face: each method hands the call to Core through ``greenlet_spawn``, as
``AsyncEngine`` and ``AsyncConnection`` do, including closing a connection to the end when the task that used it
is cancelled (so it is never left half-returned to its pool)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, Connection, CursorResult, Dialect, Engine
from sqlalchemy.sql import Executable
from sqlalchemy.util import greenlet_spawn

T = TypeVar("T")
P = ParamSpec("P")


def create_async_engine(
    url: URL, *, async_creator: Callable[[], Awaitable[Any]] | None = None, **kwargs: Any
) -> AsyncEngine:
    """An engine for an asyncio driver (``aiosqlite``, ``asyncpg``); ``async_creator`` makes the driver's
    connections, as in ``sqlalchemy.ext.asyncio.create_async_engine``."""
    kwargs["_is_async"] = True
    if async_creator is not None:

        def creator() -> Any:
            return sync_engine.dialect.dbapi.connect(async_creator_fn=async_creator)  # type: ignore[union-attr]

        kwargs["creator"] = creator
    sync_engine = create_sync_engine(url, **kwargs)
    return AsyncEngine(sync_engine)


class AsyncEngine:
    """A Core :class:`Engine` for asyncio: ``connect()`` and ``begin()`` as async context managers."""

    __slots__ = ("sync_engine",)

    def __init__(self, sync_engine: Engine) -> None:
        self.sync_engine = sync_engine

    @property
    def dialect(self) -> Dialect:
        return self.sync_engine.dialect

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection, closed (its transaction, if any, rolled back) on exit."""
        sync_connection = await greenlet_spawn(self.sync_engine.connect)
        try:
            yield AsyncConnection(sync_connection)
        finally:
            await _run_to_completion(greenlet_spawn(sync_connection.close))

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction: committed when the block ends, rolled back when it raises."""
        async with self.connect() as conn, conn.begin():
            yield conn

    async def dispose(self) -> None:
        """Close the pool's idle connections (``Engine.dispose``)."""
        await greenlet_spawn(self.sync_engine.dispose)


class AsyncConnection:
    """A Core :class:`Connection` for asyncio (``sync_connection``): statements through ``execute``, and
    ``run_sync`` for Core APIs that take a connection (migrations, inspection)."""

    __slots__ = ("sync_connection",)

    def __init__(self, sync_connection: Connection) -> None:
        self.sync_connection = sync_connection

    @property
    def dialect(self) -> Dialect:
        return self.sync_connection.dialect

    async def execute(
        self, statement: Executable, parameters: Any = None, *, execution_options: Any = None
    ) -> CursorResult[Any]:
        """Run a statement; the result is buffered (the asyncio drivers fetch every row on execute)."""
        result: CursorResult[Any] = await greenlet_spawn(
            self.sync_connection.execute, statement, parameters, execution_options=execution_options
        )
        return result

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> CursorResult[Any]:
        """Run a statement string as the driver takes it (DDL scripts, for instance)."""
        result: CursorResult[Any] = await greenlet_spawn(self.sync_connection.exec_driver_sql, statement, parameters)
        return result

    async def execution_options(self, **options: Any) -> AsyncConnection:
        await greenlet_spawn(self.sync_connection.execution_options, **options)
        return self

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A transaction on this connection: committed when the block ends, rolled back when it raises."""
        transaction = await greenlet_spawn(self.sync_connection.begin)
        # Transaction's own context protocol decides commit or rollback (and what to do after an inner error)
        transaction.__enter__()
        try:
            yield self
        except BaseException as error:
            await greenlet_spawn(transaction.__exit__, type(error), error, error.__traceback__)
            raise
        await greenlet_spawn(transaction.__exit__, None, None, None)

    async def commit(self) -> None:
        await greenlet_spawn(self.sync_connection.commit)

    async def rollback(self) -> None:
        await greenlet_spawn(self.sync_connection.rollback)

    async def run_sync(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(sync_connection, ...)`` in the bridge's greenlet: its statements await on the loop."""
        result: T = await greenlet_spawn(fn, self.sync_connection, *args, _require_await=False, **kwargs)
        return result


async def _run_to_completion(work: Coroutine[Any, Any, T]) -> T:
    """Run clean-up to its end even if the calling task is cancelled meanwhile (the cancellation is re-raised
    afterwards): a connection abandoned halfway through ``close`` would go back to a pool already disposed of,
    or not at all."""
    task = asyncio.ensure_future(work)
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError as error:
            if task.done():
                raise
            cancelled = error
        else:
            break
    if cancelled is not None:
        raise cancelled
    return result
