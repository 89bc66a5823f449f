"""Backends for the storage tests: in memory, SQLite (a copy per test of a file migrated once per session) and
PostgreSQL (a database of its own per test session, created on the server named by
IDENTITYSERVER_TEST_DATABASE_URL and dropped at the end; each test empties its tables)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from identityserver.storage.sqlalchemy import migrate
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities import metadata

PG_ENV = "IDENTITYSERVER_TEST_DATABASE_URL"
REDIS_ENV = "IDENTITYSERVER_TEST_REDIS_URL"
T = TypeVar("T")

if not os.environ.get(PG_ENV):  # modules of PostgreSQL alone, collected in CI's PostgreSQL run
    collect_ignore_glob = ["test_*_postgres.py"]


def run_sync(work: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on a fresh loop in another thread (safe inside a running loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()  # type: ignore[arg-type]


def sql_backends() -> list[Any]:
    params: list[Any] = ["sqlite"]
    if os.environ.get(PG_ENV):
        params.append(pytest.param("postgresql", marks=pytest.mark.postgres))
    return params


def all_backends() -> list[Any]:
    return ["in_memory", *sql_backends()]


def _admin_dsn() -> str:
    url = make_url(os.environ[PG_ENV])
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create_pg_database() -> str:
    """CREATE DATABASE identityserver_t_<random>; the server being unreachable is an error, never a skip."""
    name = f"identityserver_t_{secrets.token_hex(6)}"

    async def create() -> None:
        conn = await asyncpg.connect(_admin_dsn(), timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    run_sync(create)
    return make_url(os.environ[PG_ENV]).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database

    async def drop() -> None:
        conn = await asyncpg.connect(_admin_dsn(), timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    run_sync(drop)


@contextlib.contextmanager
def fresh_pg_database() -> Iterator[str]:
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="session")
def pg_session_url() -> Iterator[str]:
    """One migrated database for the whole session; each test empties its tables."""
    with fresh_pg_database() as url:

        async def upgrade() -> None:
            database = Database(url)
            try:
                await migrate.upgrade(database)
            finally:
                await database.dispose()

        run_sync(upgrade)
        yield url


_SQLITE_TEMPLATE = pytest.StashKey[Path]()


def sqlite_template(request: pytest.FixtureRequest) -> Path:
    """A SQLite database migrated once per session; each test works on a copy of the file. Kept in the session's
    stash rather than a fixture, so that modules outside tests/storage that call ``open_backend`` need nothing
    more."""
    stash = request.config.stash
    if _SQLITE_TEMPLATE not in stash:
        factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
        path = factory.mktemp("sqlite-template") / "identityserver.db"

        async def upgrade() -> None:
            database = Database(f"sqlite:///{path}")
            try:
                await migrate.upgrade(database)
            finally:
                await database.dispose()  # closing the last connection checkpoints the WAL into the file

        run_sync(upgrade)
        stash[_SQLITE_TEMPLATE] = path
    return stash[_SQLITE_TEMPLATE]


async def empty_tables(database: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    async with database.write() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@dataclass
class Backend:
    kind: str
    database: Database | None
    url: str | None = None

    @property
    def db(self) -> Database:
        assert self.database is not None
        return self.database

    @contextlib.asynccontextmanager
    async def another_node(self) -> AsyncIterator[Database]:
        """The same database as another process (a node of a scale-out) sees it: an engine and fast path of its own."""
        other = Database(self.url or "")
        try:
            yield other
        finally:
            await other.dispose()


@contextlib.asynccontextmanager
async def open_backend(kind: str, request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Backend]:
    if kind == "in_memory":
        yield Backend(kind, None)
        return
    if kind == "sqlite":
        path = tmp_path / "identityserver.db"
        shutil.copy(sqlite_template(request), path)
        url = f"sqlite:///{path}"
        database = Database(url)
    else:
        url = request.getfixturevalue("pg_session_url")
        database = Database(url)
        await empty_tables(database)
    try:
        yield Backend(kind, database, url)
    finally:
        await database.dispose()


@pytest.fixture(params=all_backends())
async def backend(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Backend]:
    async with open_backend(request.param, request, tmp_path) as opened:
        yield opened


@pytest.fixture(params=sql_backends())
async def sql_backend(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Backend]:
    async with open_backend(request.param, request, tmp_path) as opened:
        yield opened
