"""A worker loads the database modules of its own database only: on PostgreSQL neither ``sqlite3`` (and
libsqlite3) nor SQLAlchemy's SQLite dialect (about 1.5 MiB of a worker's RSS), on SQLite neither asyncpg nor
SQLAlchemy's PostgreSQL dialect (about 5.7 MiB together)."""

from __future__ import annotations

from pathlib import Path

from tests.support.worker_modules import POSTGRES_MODULES, SQLITE_MODULES, modules_after_tokens, modules_when_built


def test_a_postgresql_server_is_built_without_the_sqlite_modules(tmp_path: Path) -> None:
    database = 'database_url = "postgresql://postgres@127.0.0.1:5432/unused"'
    result = modules_when_built(tmp_path, database, {"sqlite": SQLITE_MODULES, "ui": ("identityserver.ui",)})
    assert result["ui"]  # the check ran on a fully built server
    assert result["sqlite"] == []


def test_a_sqlite_server_serves_tokens_without_the_postgresql_modules(tmp_path: Path) -> None:
    # the child issued a reference token and introspected it active (it fails otherwise)
    result = modules_after_tokens(tmp_path, "", {"postgres": POSTGRES_MODULES, "sqlite": SQLITE_MODULES})
    assert "sqlite3" in result["sqlite"]
    assert result["postgres"] == []
