"""``/health/live`` and ``/health/ready``: probes without cookies or caching, naming what failed, recovering when
the dependency returns, bounded when it hangs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from identityserver.hosting.health import HealthCheck, describe_error
from identityserver.storage.sqlalchemy import migrate
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.health import DatabaseHealthCheck
from tests.support.process import free_port
from tests.support.server import make_builder, running

PG_URL = os.environ.get("IDENTITYSERVER_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"


def assert_probe_headers(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/json"
    assert "set-cookie" not in response.headers


async def test_ready_is_200_on_a_healthy_server() -> None:
    async with running(make_builder()) as server:
        response = await server.client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "checks": {"signing_keys": "ok"}}
    assert_probe_headers(response)


async def test_live_is_200_even_when_a_dependency_fails() -> None:
    builder = make_builder().add_item(HealthCheck, Switch("database", healthy=False))
    async with running(builder) as server:
        live = await server.client.get("/health/live")
        head = await server.client.head("/health/live")
        ready = await server.client.get("/health/ready")
    assert live.status_code == 200
    assert live.json() == {"status": "healthy"}
    assert_probe_headers(live)
    assert head.status_code == 200 and head.content == b""
    assert ready.status_code == 503


async def test_probes_refuse_other_methods_and_need_no_credentials() -> None:
    async with running(make_builder()) as server:
        response = await server.client.post("/health/ready", data={"a": "b"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


class Switch:
    """A check the test turns on and off."""

    def __init__(self, name: str, healthy: bool = True) -> None:
        self.name = name
        self.healthy = healthy

    async def check(self) -> str | None:
        return None if self.healthy else "down for the test"


async def test_ready_names_the_failing_check_and_recovers() -> None:
    switch = Switch("redis", healthy=False)
    async with running(make_builder().add_item(HealthCheck, switch)) as server:
        failing = await server.client.get("/health/ready")
        switch.healthy = True
        recovered = await server.client.get("/health/ready")
    assert failing.status_code == 503
    assert failing.json() == {
        "status": "unhealthy",
        "checks": {"signing_keys": "ok", "redis": "down for the test"},
    }
    assert_probe_headers(failing)
    assert recovered.status_code == 200


@contextlib.asynccontextmanager
async def pg_database() -> AsyncIterator[str]:
    """A migrated database of its own on the test server, dropped afterwards."""
    name = f"identityserver_t_{secrets.token_hex(6)}"
    admin = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    try:
        await migrate.upgrade(database)
    finally:
        await database.dispose()
    try:
        yield url
    finally:
        conn = await asyncpg.connect(admin, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@contextlib.asynccontextmanager
async def tcp_forwarder(port: int, target: tuple[str, int] | None) -> AsyncIterator[None]:
    """Listen on ``port``: forward to ``target``, or (``None``) accept and never answer (a hung database)."""
    streams: list[asyncio.StreamWriter] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        streams.append(writer)
        if target is None:
            await reader.read()  # hold the connection open without a word
            return
        up_reader, up_writer = await asyncio.open_connection(*target)
        streams.append(up_writer)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()
        for writer in streams:
            writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)


async def test_database_on_a_closed_port_is_503_and_recovers_when_it_returns() -> None:
    port = free_port()  # nothing listens there until the forwarder starts
    async with pg_database() as real_url:
        real = make_url(real_url)
        url = real.set(port=port, password="not-for-the-probe").render_as_string(hide_password=False)
        database = Database(url)
        builder = make_builder().add_item(HealthCheck, DatabaseHealthCheck(database))
        try:
            async with running(builder) as server:
                down = await server.client.get("/health/ready")
                async with tcp_forwarder(port, (real.host or "127.0.0.1", real.port or 5432)):
                    up = await server.client.get("/health/ready")
        finally:
            await database.dispose()
    assert down.status_code == 503, down.text
    checks = down.json()["checks"]
    assert checks["signing_keys"] == "ok"
    assert checks["database"].startswith("unreachable: ")
    assert "not-for-the-probe" not in down.text and "Traceback" not in down.text
    assert_probe_headers(down)
    assert up.status_code == 200, up.text
    assert up.json()["checks"]["database"] == "ok"


async def test_a_hung_database_answers_503_within_the_check_timeout() -> None:
    port = free_port()
    database = Database(f"postgresql://postgres@127.0.0.1:{port}/test")
    builder = make_builder().add_item(HealthCheck, DatabaseHealthCheck(database))
    try:
        async with tcp_forwarder(port, None), running(builder) as server:
            started = time.monotonic()
            response = await server.client.get("/health/ready")
            elapsed = time.monotonic() - started
    finally:
        await database.dispose()
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "timed out after 2 s"
    assert elapsed < 5


async def test_a_database_short_of_the_head_revision_is_not_ready(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")  # reachable, never migrated
    builder = make_builder().add_item(HealthCheck, DatabaseHealthCheck(database))
    try:
        async with running(builder) as server:
            response = await server.client.get("/health/ready")
    finally:
        await database.dispose()
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("at revision none, expected ")


async def test_sql_stores_contribute_the_database_check(tmp_path: Path) -> None:
    from identityserver.configuration.sql_stores import add_sql_stores

    async def prepare(database: Database) -> None:
        await migrate.ensure_schema(database)

    builder = make_builder()
    database = add_sql_stores(builder, f"sqlite:///{tmp_path / 'x.db'}", prepare=prepare)
    async with running(builder) as server:
        response = await server.client.get("/health/ready")
    await database.dispose()
    assert response.status_code == 200, response.text
    assert set(response.json()["checks"]) == {"signing_keys", "database"}


def test_errors_are_described_without_credentials() -> None:
    error = RuntimeError("could not connect to postgresql://admin:hunter2@db:5432/idp password=hunter2 now")
    wrapped = ValueError("outer")
    wrapped.__cause__ = error
    text = describe_error(wrapped)
    assert text.startswith("RuntimeError: could not connect to postgresql://***@db:5432/idp")
    assert "hunter2" not in text
    assert len(describe_error(RuntimeError("x" * 1000))) <= 200


@pytest.mark.parametrize("path", ["/health", "/health/", "/health/other"])
async def test_other_paths_are_not_probes(path: str) -> None:
    async with running(make_builder()) as server:
        response = await server.client.get(path)
    assert response.status_code == 404


async def test_redis_check_against_a_live_and_a_closed_port() -> None:
    from redis.asyncio import Redis

    from identityserver.storage.redis.health import RedisHealthCheck

    live = Redis.from_url(os.environ.get("IDENTITYSERVER_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0")
    closed = Redis.from_url(f"redis://:not-for-the-probe@127.0.0.1:{free_port()}/0")
    try:
        assert await RedisHealthCheck(live).check() is None
        reason = await RedisHealthCheck(closed).check()
    finally:
        await live.aclose()
        await closed.aclose()
    assert reason is not None and reason.startswith("unreachable: ")
    assert "not-for-the-probe" not in reason


def test_the_host_adds_the_redis_check(tmp_path: Path) -> None:
    from identityserver.configuration.host import create_builder
    from identityserver.configuration.loader import parse_configuration

    config = parse_configuration({"redis_url": "redis://127.0.0.1:6379/0"})
    services = create_builder(config, tmp_path).build()
    assert [check.name for check in services.health_checks] == ["signing_keys", "database", "redis"]
