"""The database check of ``/health/ready``: reachable, and at the revision this code expects."""

from __future__ import annotations

from identityserver.hosting.health import describe_error
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.schema_check import HEAD_REVISION, current_revision


class DatabaseHealthCheck:
    """Ready when a connection answers and ``alembic_version`` is the head revision (a database migrated
    past or short of this code's schema would fail requests)."""

    name = "database"

    def __init__(self, database: Database) -> None:
        self.database = database

    async def check(self) -> str | None:
        try:
            revision = await current_revision(self.database)
        except Exception as error:
            return "unreachable: " + describe_error(error)
        if revision != HEAD_REVISION:
            return f"at revision {revision or 'none'}, expected {HEAD_REVISION} (run identityserver db upgrade)"
        return None
