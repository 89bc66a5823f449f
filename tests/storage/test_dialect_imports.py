"""A worker loads the database modules of its own database only: on PostgreSQL neither ``sqlite3`` (and
libsqlite3) nor SQLAlchemy's SQLite dialect (about 1.5 MiB of a worker's RSS), on SQLite neither asyncpg nor
SQLAlchemy's PostgreSQL dialect (about 5.7 MiB together)."""

from __future__ import annotations

from pathlib import Path

from tests.support.worker_modules import (
    POSTGRES_MODULES,
    SERVE_TOKENS,
    SQLITE_MODULES,
    build,
    prepare,
    run_python,
    write_config,
)


def test_a_postgresql_server_is_built_without_the_sqlite_modules(tmp_path: Path) -> None:
    # building connects to nothing: the database is reached at the first request
    config = write_config(tmp_path, 'database_url = "postgresql://postgres@127.0.0.1:5432/unused"')
    result = run_python(
        build(config, tmp_path / "state"),
        f"""
        print(json.dumps({{"sqlite": loaded({SQLITE_MODULES!r}), "ui": loaded(("identityserver.ui",))}}))
        """,
        cwd=tmp_path,
    )
    assert result["ui"]  # the check ran on a fully built server
    assert result["sqlite"] == []


def test_a_sqlite_server_serves_tokens_without_the_postgresql_modules(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    prepare(config, tmp_path / "state")
    result = run_python(
        build(config, tmp_path / "state"),
        SERVE_TOKENS,
        f"""
        print(json.dumps({{
            "active": [str(active)], "postgres": loaded({POSTGRES_MODULES!r}), "sqlite": loaded({SQLITE_MODULES!r})
        }}))
        """,
        cwd=tmp_path,
    )
    assert result["active"] == ["True"]  # a reference token was stored and read back
    assert "sqlite3" in result["sqlite"]
    assert result["postgres"] == []
