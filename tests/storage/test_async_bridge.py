"""The asyncio face of SQLAlchemy Core (storage/sqlalchemy/async_bridge.py): transactions commit or roll back as
their block ends, a cancelled task still returns its connection, and a serving worker never imports the ORM."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, inspect, select

from identityserver.storage.sqlalchemy.async_bridge import AsyncConnection
from identityserver.storage.sqlalchemy.engine import create_engine

ROWS = Table("rows", MetaData(), Column("n", Integer, primary_key=True))


async def rows(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(ROWS))).scalar_one())


async def test_a_transaction_commits_when_its_block_ends_and_rolls_back_when_it_raises(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'bridge.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(ROWS.metadata.create_all)
            await conn.execute(ROWS.insert(), [{"n": 1}, {"n": 2}])
        with pytest.raises(RuntimeError, match="abandon"):
            async with engine.begin() as conn:
                await conn.execute(ROWS.insert(), {"n": 3})
                assert await rows(conn) == 3
                raise RuntimeError("abandon")
        async with engine.connect() as conn:
            assert await rows(conn) == 2
            await conn.rollback()  # ends the read's autobegun transaction, as Core requires before begin()
            async with conn.begin():
                await conn.exec_driver_sql("INSERT INTO rows (n) VALUES (4)")
            assert await conn.run_sync(lambda sync: inspect(sync).has_table("rows"))
        async with engine.connect() as conn:
            assert await rows(conn) == 3
        # docs/persistence.md: code that wants SQLAlchemy's own asyncio classes wraps the same engine
        from sqlalchemy.ext.asyncio import AsyncEngine as SqlAlchemyAsyncEngine

        async with SqlAlchemyAsyncEngine(engine.sync_engine).connect() as theirs:
            assert await theirs.scalar(select(func.count()).select_from(ROWS)) == 3
    finally:
        await engine.dispose()


async def test_a_task_cancelled_inside_a_transaction_rolls_it_back_and_returns_its_connection(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'bridge.db'}")
    entered = asyncio.Event()

    async def hold() -> None:
        async with engine.begin() as conn:
            await conn.execute(ROWS.insert(), {"n": 7})
            entered.set()
            await asyncio.sleep(60)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(ROWS.metadata.create_all)
        task = asyncio.create_task(hold())
        await entered.wait()
        assert engine.sync_engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        async with engine.connect() as conn:
            assert await rows(conn) == 0
    finally:
        await engine.dispose()


def test_a_serving_worker_imports_neither_the_orm_nor_jinja2(tmp_path: Path) -> None:
    """What ``sqlalchemy.ext.asyncio`` would cost each worker: it imports the ORM (about 8 MiB) for its
    ``AsyncSession``. Jinja2 (1.8 MiB) is for the pages, loaded at the first one. The worker here starts, and
    answers a token request and its introspection, which read and write through the engine and the fast path."""
    state = tmp_path / "state"
    prepared = subprocess.run(
        [sys.executable, "-m", "identityserver", "db", "prepare", "--state-path", str(state)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert prepared.returncode == 0, prepared.stderr
    script = textwrap.dedent(
        """
        import asyncio, sys
        import httpx
        from identityserver.cli.serve import app_factory

        async def main():
            app = app_factory()
            startup, sent = asyncio.Queue(), []
            await startup.put({"type": "lifespan.startup"})

            async def send(message):
                sent.append(message)

            scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
            lifespan = asyncio.create_task(app(scope, startup.get, send))
            while not sent:
                await asyncio.sleep(0.01)
            assert sent == [{"type": "lifespan.startup.complete"}], sent
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
                token = await client.post(
                    "/connect/token", data={"grant_type": "client_credentials"}, auth=("m2m", "secret")
                )
                assert token.status_code == 200, token.text
                introspected = {"token": token.json()["access_token"]}
                answer = await client.post("/connect/introspect", data=introspected, auth=("urn:api1", "api1-secret"))
                assert answer.json()["active"] is True, answer.text
            await startup.put({"type": "lifespan.shutdown"})
            await lifespan

        asyncio.run(main())
        unwanted = ("sqlalchemy.orm", "sqlalchemy.ext", "jinja2", "markupsafe")
        print(sorted(m for m in sys.modules if m.startswith(unwanted)))
        """
    )
    env = {"IDENTITYSERVER_STATE": str(state), "PATH": "/usr/bin:/bin"}
    served = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert served.returncode == 0, served.stderr
    assert served.stdout.strip().splitlines()[-1] == "[]"
