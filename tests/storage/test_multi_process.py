"""Several server processes on one database (security.md §3.3 M4, M1): of N parallel redemptions of one code,
one-time refresh token or DPoP jti spread over two processes, exactly one wins."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from identityserver.models.grants import PersistedGrant
from identityserver.storage.sqlalchemy import migrate
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.stores import SqlPersistedGrantStore
from tests.storage.conftest import sql_backends

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 5
PER_PROCESS = 10

WORKER = """
import asyncio, sys, time
from datetime import UTC, datetime
from identityserver.clock import SystemClock
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.stores import SqlPersistedGrantStore, SqlReplayCache

async def main(url, start, rounds, per_process):
    database = Database(url)
    store, replay = SqlPersistedGrantStore(database), SqlReplayCache(database, SystemClock())
    await store.get("warm-up")
    await asyncio.sleep(max(0.0, start - time.time()))
    wins = []
    for r in range(rounds):
        taken = await asyncio.gather(*(store.take(f"code-{r}") for _ in range(per_process)))
        consumed = await asyncio.gather(
            *(store.consume(f"rt-{r}", datetime.now(UTC)) for _ in range(per_process)))
        replays = await asyncio.gather(*(replay.add("dpop", f"jti-{r}", 60) for _ in range(per_process)))
        wins.append(f"{sum(t is not None for t in taken)},{sum(c is not None for c in consumed)},{replays.count(True)}")
    await database.dispose()
    print(" ".join(wins))

asyncio.run(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
"""


@pytest.mark.parametrize("kind", sql_backends())
async def test_parallel_redemptions_across_two_processes_have_exactly_one_winner(kind, tmp_path, request):
    url = f"sqlite:///{tmp_path}/shared.db" if kind == "sqlite" else request.getfixturevalue("pg_session_url")
    database = Database(url)
    try:
        await migrate.upgrade(database)
        if kind != "sqlite":
            from tests.storage.conftest import empty_tables

            await empty_tables(database)
        store = SqlPersistedGrantStore(database)
        now = datetime.now(UTC)
        for r in range(ROUNDS):
            for key, grant_type in ((f"code-{r}", "authorization_code"), (f"rt-{r}", "refresh_token")):
                await store.store(
                    PersistedGrant(key, grant_type, "c", now, "{}", "sub", expiration=now + timedelta(minutes=5))
                )
    finally:
        await database.dispose()

    start = time.time() + 3
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WORKER,
            url,
            str(start),
            str(ROUNDS),
            str(PER_PROCESS),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [await asyncio.wait_for(p.communicate(), 120) for p in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()
    per_round = [[tuple(map(int, w.split(","))) for w in out.decode().split()] for out, _ in outputs]
    for r in range(ROUNDS):
        taken, consumed, replays = (sum(p[r][i] for p in per_round) for i in range(3))
        assert (taken, consumed, replays) == (1, 1, 1), f"round {r}: {per_round}"
