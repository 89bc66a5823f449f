"""SQLite run on the event loop's own thread, behind the interface of an ``aiosqlite`` connection (issue 15).

Why: aiosqlite runs every call (cursor, execute, fetch, commit, the pool's rollback) in a thread of its own and
wakes the loop for each result; a store call makes about eight such hand-offs, and with many requests in flight
the GIL hand-offs cost ~1 ms of CPU per call (measured in ``bench/store_path.py``), while the statements
themselves take tens of microseconds on a WAL database with ``synchronous=NORMAL`` (no fsync on commit). So
each call runs inline here, and SQLAlchemy's greenlet bridge gets an already finished coroutine.

The one call that can take long is waiting for another connection's write lock (``SQLITE_BUSY``: another
process, or a write transaction of this one that yields to the loop). The connection has no busy handler
(``timeout=0``): a statement refused with ``SQLITE_BUSY`` had no effect and is retried after an ``asyncio``
sleep (backing off to 50 ms) until the busy timeout passes, so the loop never blocks on a lock.
``SQLITE_BUSY_SNAPSHOT`` (a read transaction that may no longer write) is raised at once: waiting cannot
resolve it (https://www.sqlite.org/rescode.html#busy_snapshot)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import Any

SQLITE_BUSY = 5
SQLITE_BUSY_SNAPSHOT = 517
_FIRST_RETRY_S = 0.001
_MAX_RETRY_S = 0.05


def _retryable(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == SQLITE_BUSY and code != SQLITE_BUSY_SNAPSHOT


class InlineCursor:
    """The subset of ``aiosqlite.Cursor`` SQLAlchemy's aiosqlite dialect uses."""

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._cursor = connection.raw.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        cursor = self._cursor
        if parameters is None:
            await self._connection.retry_busy(lambda: cursor.execute(sql))
        else:
            await self._connection.retry_busy(lambda: cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        rows = list(parameters)
        await self._connection.retry_busy(lambda: self._cursor.executemany(sql, rows))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class InlineConnection:
    """The subset of ``aiosqlite.Connection`` SQLAlchemy's aiosqlite dialect uses, run inline."""

    def __init__(self, raw: sqlite3.Connection, busy_timeout_s: float) -> None:
        self.raw = raw
        self.busy_timeout_s = busy_timeout_s
        # the dialect tests ``_connection`` for "still open" before commit and rollback
        self._connection: sqlite3.Connection | None = raw

    async def retry_busy(self, call: Any) -> Any:
        deadline = 0.0
        delay = _FIRST_RETRY_S
        while True:
            try:
                return call()
            except sqlite3.OperationalError as error:
                if not _retryable(error):
                    raise
                now = time.monotonic()
                deadline = deadline or now + self.busy_timeout_s
                if now >= deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_RETRY_S)

    @property
    def isolation_level(self) -> str | None:
        return self.raw.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        cursor = InlineCursor(self)
        return await cursor.execute(sql, parameters)

    async def commit(self) -> None:
        await self.retry_busy(self.raw.commit)

    async def rollback(self) -> None:
        self.raw.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self.raw.create_function(*args, **kwargs)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self.raw.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self.raw.close()


def inline_creator(database: str, busy_timeout_s: float) -> Any:
    """An ``async_creator`` for ``create_async_engine``: connections in autocommit mode (the engine issues its own
    ``BEGIN``), usable from any thread (pool connections move between tasks, never used by two at once)."""

    async def connect() -> InlineConnection:
        raw = sqlite3.connect(
            database,
            timeout=0,
            isolation_level=None,
            check_same_thread=False,
            uri=database.startswith("file:"),
            cached_statements=256,
        )
        return InlineConnection(raw, busy_timeout_s)

    return connect


CHECKPOINT_EVERY_WRITES = 500
"""Write transactions between two checkpoints of the write-ahead log (a few MiB of WAL)."""
RESTART_WAL_FRAMES = 8192
"""Frames (pages) the write-ahead log may hold before a checkpoint also rewinds it (32 MiB at 4 KiB pages)."""


class WalCheckpointer:
    """Checkpoints the write-ahead log in a worker thread. The connections of this process have SQLite's
    automatic checkpoint turned off (``wal_autocheckpoint = 0``): it runs inside the ``COMMIT`` that crosses 1000
    pages and syncs the database file, which would stall the loop's thread (p99 in the hundreds of ms under
    load). ``PASSIVE`` never waits for readers or writers (https://www.sqlite.org/c3ref/wal_checkpoint_v2.html);
    other processes (the command line) keep the automatic checkpoint.

    Under a steady write load a ``PASSIVE`` checkpoint never catches up with the writers, so the log is never
    rewound and grows without end (1.5 GB after 36 s of reference tokens, and every read slower as it searches a
    longer log). Once the log holds :data:`RESTART_WAL_FRAMES`, the next checkpoint is a ``RESTART`` taken while
    this process's writers wait their turn in the loop (``writer_lock``): it copies what the passive ones left and
    rewinds the log, which then stays that size."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._writes = 0
        self._running: asyncio.Future[None] | None = None

    def note_write(self, statements: int, writer_lock: asyncio.Lock) -> None:
        self._writes += statements
        if self._writes < CHECKPOINT_EVERY_WRITES or (self._running is not None and not self._running.done()):
            return
        self._writes = 0
        self._running = asyncio.ensure_future(self._checkpoint(writer_lock))

    async def _checkpoint(self, writer_lock: asyncio.Lock) -> None:
        loop = asyncio.get_running_loop()
        frames = await loop.run_in_executor(None, self.checkpoint)
        if frames >= RESTART_WAL_FRAMES:
            async with writer_lock:
                await loop.run_in_executor(None, self.checkpoint, "RESTART")

    def checkpoint(self, mode: str = "PASSIVE") -> int:
        """Run one checkpoint; the frames the log held (0 when it could not run: retried after the next writes,
        a busy or failed checkpoint loses nothing)."""
        raw = sqlite3.connect(self.path, timeout=1)
        try:
            row = raw.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
            return int(row[1]) if row and row[1] > 0 else 0
        except sqlite3.Error:
            return 0
        finally:
            raw.close()
