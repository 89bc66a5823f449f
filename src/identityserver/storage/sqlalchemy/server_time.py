"""The database server's clock, the reference that ``SynchronizedClock`` holds every node of a PostgreSQL
deployment to (docs/scaling.md, "Clocks")."""

from __future__ import annotations

from sqlalchemy import String, text

from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.fast_path import Prepared

# clock_timestamp(), not now(): now() is the start of the transaction, which a pooled connection may have begun
# as text: the fast path's result processors want a column type, and SQLAlchemy's Float has none for asyncpg here
_SERVER_TIME = Prepared(text("SELECT CAST(extract(epoch FROM clock_timestamp()) AS text) AS now").columns(now=String))


async def database_server_time(database: Database) -> float:
    """Seconds since the epoch by the database server's clock (one round trip on the driver's connection; before
    the process's start-up step, which the clock's time dates)."""
    row = await database.fetch_before_prepare(_SERVER_TIME, {})
    if row is None:
        raise RuntimeError("the database returned no time")
    return float(row["now"])
