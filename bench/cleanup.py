"""Token cleanup benchmark (run by hand, not in CI): 1,000,000 expired grants in PostgreSQL removed by
``SqlTokenCleanupService``, then the same rows removed by one plain ``DELETE``, with the ratio of the two rates.

    python bench/cleanup.py [--database-url postgresql://postgres@127.0.0.1:5432/test] [--rows 1000000]
                            [--batch-size 100]

A scratch database is created next to the one named (CREATE DATABASE ... / DROP DATABASE at the end)."""

from __future__ import annotations

import argparse
import asyncio
import resource
import secrets
import time
import tracemalloc
from datetime import UTC, datetime

import asyncpg
from sqlalchemy.engine import make_url

from identityserver.options import OperationalStoreOptions
from identityserver.storage.sqlalchemy import migrate
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.token_cleanup import SqlTokenCleanupService

FILL = """
INSERT INTO "PersistedGrants" ("Key", "Type", "SubjectId", "SessionId", "ClientId", "Description", "CreationTime",
                               "Expiration", "ConsumedTime", "Data")
SELECT upper(md5(g::text || $2)), 'refresh_token', 'sub' || (g % 1000), 'sid' || g, 'client' || (g % 10), NULL,
       now() - interval '2 days', now() - interval '1 day' + (g || ' milliseconds')::interval, NULL,
       '{"PersistentGrantDataContainerVersion":1,"DataProtected":true,"Payload":"' || repeat('x', 300) || '"}'
FROM generate_series(1, $1) AS g
"""


class WallClock:
    """The benchmark's own clock (the library takes a Clock; this script is not library code)."""

    def utc_now(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self) -> float:
        return time.time()


async def fill(dsn: str, rows: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(FILL, rows, secrets.token_hex(4))
        await conn.execute('ANALYZE "PersistedGrants"')
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()

    admin = make_url(args.database_url).set(drivername="postgresql")
    name = f"identityserver_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    dsn = admin.set(database=name).render_as_string(hide_password=False)
    database = Database(dsn)
    try:
        await migrate.upgrade(database)

        await fill(dsn, args.rows)
        options = OperationalStoreOptions(token_cleanup_batch_size=args.batch_size)
        service = SqlTokenCleanupService(database, options, WallClock())
        tracemalloc.start()
        started = time.perf_counter()
        await service.cleanup_grants()
        service_seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        removed = service.last_result.expired_grants
        assert removed == args.rows, removed

        await fill(dsn, args.rows)
        conn = await asyncpg.connect(dsn)
        try:
            started = time.perf_counter()
            status = await conn.execute('DELETE FROM "PersistedGrants" WHERE "Expiration" < now()')
            plain_seconds = time.perf_counter() - started
        finally:
            await conn.close()
        assert status == f"DELETE {args.rows}", status

        service_rate = removed / service_seconds
        plain_rate = args.rows / plain_seconds
        print(f"rows                      {args.rows:,}")
        print(f"batch size                {args.batch_size}")
        print(f"cleanup service           {service_seconds:8.1f} s   {service_rate:12,.0f} rows/s")
        print(f"plain DELETE              {plain_seconds:8.1f} s   {plain_rate:12,.0f} rows/s")
        print(f"ratio (plain / service)   {plain_rate / service_rate:8.1f}x")
        print(f"peak Python heap (cleanup){peak / 1024 / 1024:8.1f} MiB")
        print(f"peak RSS (process)        {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.1f} MiB")
    finally:
        await database.dispose()
        conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
