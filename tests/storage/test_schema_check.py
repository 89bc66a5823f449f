"""The cheap start-up revision check agrees with Alembic's head."""

from __future__ import annotations

from identityserver.storage.sqlalchemy import migrate
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.schema_check import HEAD_REVISION, current_revision, is_at_head


def test_head_revision_constant_matches_the_migrations():
    assert migrate.head_revision() == HEAD_REVISION


async def test_revision_is_read_without_alembic(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        assert await current_revision(database) is None
        assert not await is_at_head(database)
        await migrate.ensure_schema(database)
        assert await current_revision(database) == HEAD_REVISION
        assert await is_at_head(database)
    finally:
        await database.dispose()
