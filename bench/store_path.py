#!/usr/bin/env python3
"""The stored-grant path in one process, without HTTP (issue 15): ``SqlPersistedGrantStore.store`` (what a
reference token, a code or a refresh token costs) and ``get`` (what introspection costs), from N concurrent
tasks, on SQLite and PostgreSQL. Reports operations per second, wall time per operation and CPU time per
operation (all threads of the process; the figure other processes on a shared machine disturb least).

    python bench/store_path.py                              # SQLite, 64 tasks
    python bench/store_path.py --pg-url postgresql://postgres@127.0.0.1:5432/idsrv_bench --ops 4000
    PYTHONPATH=/tmp/copy/src python bench/store_path.py     # a snapshot of the package
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from identityserver.models.grants import PersistedGrant
from identityserver.storage.sqlalchemy import migrate
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.stores.persisted_grants import SqlPersistedGrantStore

DATA = '{"client_id":"bench-ref","scopes":["api1"],"lifetime":3600,"claims":[]}' * 4


def grant(key: str, data: str = DATA) -> PersistedGrant:
    """A reference token's row, created now, expiring in an hour."""
    now = datetime.now(UTC)
    return PersistedGrant(
        key=key,
        type="reference_token",
        subject_id=None,
        session_id=None,
        client_id="bench-ref",
        description=None,
        creation_time=now,
        expiration=now + timedelta(hours=1),
        consumed_time=None,
        data=data,
    )


async def phase(name: str, ops: int, tasks: int, work: object) -> tuple[float, float, float]:
    queue = list(range(ops))
    latencies: list[float] = []

    async def worker() -> None:
        while queue:
            i = queue.pop()
            start = time.perf_counter()
            await work(i)  # type: ignore[operator]
            latencies.append(time.perf_counter() - start)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    latencies.sort()
    p50, p99 = statistics.median(latencies), latencies[int(len(latencies) * 0.99)]
    print(
        f"  {name:<6} {ops / wall:8.0f}/s  {cpu / ops * 1e6:6.0f} us CPU/op  p50 {p50 * 1e3:6.1f} ms  "
        f"p99 {p99 * 1e3:6.1f} ms",
        flush=True,
    )
    return ops / wall, cpu / ops, p99


async def run(url: str, ops: int, tasks: int, rounds: int) -> None:
    database = Database(url)
    await migrate.upgrade(database)
    store = SqlPersistedGrantStore(database)
    prefix = secrets.token_hex(4)
    for number in range(rounds):
        print(f" round {number + 1}")
        keys = [f"{prefix}-{number}-{i}" for i in range(ops)]

        async def write(i: int, keys: list[str] = keys) -> None:
            await store.store(grant(keys[i]))

        async def read(i: int, keys: list[str] = keys) -> None:
            if await store.get(keys[i]) is None:
                raise SystemExit(f"grant {keys[i]} missing")

        await phase("store", ops, tasks, write)
        await phase("get", ops, tasks, read)
    await database.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", help="PostgreSQL instead of a temporary SQLite file")
    parser.add_argument("--ops", type=int, default=3000)
    parser.add_argument("--tasks", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = parser.parse_args()
    url = args.pg_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='idsrv-store-')) / 'bench.db'}"
    print(f"{url.split('@')[-1]}: {args.tasks} tasks, {args.ops} operations per phase, loop {args.loop}")
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(run(url, args.ops, args.tasks, args.rounds))
    else:
        asyncio.run(run(url, args.ops, args.tasks, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
