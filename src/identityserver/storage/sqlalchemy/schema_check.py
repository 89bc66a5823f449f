"""A cheap start-up check of the schema revision that does not import Alembic (about 10 MiB per worker):
every worker runs it, while migrations run once, in ``serve``'s main process or ``identityserver db upgrade``."""

from __future__ import annotations

from sqlalchemy import inspect, text

from identityserver.storage.sqlalchemy.engine import Database

#: The newest migration in ``migrations/versions`` (a test checks it against Alembic's head).
HEAD_REVISION = "0005"


async def current_revision(database: Database) -> str | None:
    """The ``alembic_version`` of the database, ``None`` when there is none."""
    async with database.read() as conn:
        has_table = await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version"))
        if not has_table:
            return None
        row = (await conn.execute(text("SELECT version_num FROM alembic_version"))).first()
    return str(row[0]) if row else None


async def is_at_head(database: Database) -> bool:
    return await current_revision(database) == HEAD_REVISION
