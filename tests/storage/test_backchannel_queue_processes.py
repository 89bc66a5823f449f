"""Two processes claiming from one back-channel logout queue at once (SQLite and PostgreSQL): every delivery is
claimed, and none by both (the lease taken in the claiming statement)."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from identityserver.models.logout import BackChannelLogoutDelivery
from identityserver.storage.sqlalchemy import migrate
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.stores import SqlBackChannelLogoutQueue
from tests.storage.conftest import sql_backends

ROOT = Path(__file__).resolve().parents[2]
DELIVERIES = 360

WORKER = """
import asyncio, sys
from datetime import UTC, datetime, timedelta
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.stores import SqlBackChannelLogoutQueue

async def claimer(queue, claimed):
    while True:
        now = datetime.now(UTC)
        batch = await queue.claim(now, now + timedelta(minutes=5), 3)
        if not batch:
            return
        claimed.extend(d.id for d in batch)
        # a delivery loop posts its batch before it claims the next: without this pause one process could claim
        # all of them before the other had woken from the barrier, and the test would race nothing
        await asyncio.sleep(0.005)

async def main(url):
    database = Database(url)
    queue = SqlBackChannelLogoutQueue(database)
    await queue.claim(datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 1, tzinfo=UTC), 1)  # warm-up
    print("ready", flush=True)
    sys.stdin.readline()  # both processes start claiming when both are ready
    claimed = []
    await asyncio.gather(*(claimer(queue, claimed) for _ in range(6)))
    await database.dispose()
    print(" ".join(claimed))

asyncio.run(main(sys.argv[1]))
"""


@pytest.mark.parametrize("kind", sql_backends())
async def test_two_processes_never_claim_one_delivery(kind, tmp_path, request):
    url = f"sqlite:///{tmp_path}/shared.db" if kind == "sqlite" else request.getfixturevalue("pg_session_url")
    database = Database(url)
    try:
        await migrate.upgrade(database)
        if kind != "sqlite":
            from tests.storage.conftest import empty_tables

            await empty_tables(database)
        now = datetime.now(UTC) - timedelta(seconds=1)
        await SqlBackChannelLogoutQueue(database).enqueue(
            [
                BackChannelLogoutDelivery(f"d{i:03}", "rp", "alice", "sid", "https://i", now, now)
                for i in range(DELIVERIES)
            ]
        )
    finally:
        await database.dispose()

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", WORKER, url,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        )
        for _ in range(2)
    ]  # fmt: skip
    # a barrier, not a start time: a process slow to start (a loaded machine) would find the queue already empty
    for process in processes:
        assert process.stdout is not None
        ready = await asyncio.wait_for(process.stdout.readline(), 120)
        assert ready == b"ready\n", ready + (await process.stderr.read() if process.stderr else b"")
    for process in processes:  # both told to go before either is waited for
        assert process.stdin is not None
        process.stdin.write(b"go\n")
        await process.stdin.drain()
    outputs = [await asyncio.wait_for(p.communicate(), 120) for p in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()
    claimed = [out.decode().split() for out, _ in outputs]
    everything = claimed[0] + claimed[1]
    assert sorted(everything) == [f"d{i:03}" for i in range(DELIVERIES)], "a delivery was claimed twice or never"
    assert all(claimed), f"one process claimed nothing ({[len(c) for c in claimed]}): the test raced nothing"
