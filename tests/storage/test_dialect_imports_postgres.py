"""A PostgreSQL worker that has served tokens has still loaded none of the SQLite modules (test_dialect_imports.py
checks the server as built; this one, collected in CI's PostgreSQL run, after requests that wrote and read)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.storage.conftest import fresh_pg_database
from tests.support.worker_modules import SERVE_TOKENS, SQLITE_MODULES, build, prepare, run_python, write_config

pytestmark = pytest.mark.postgres


def test_a_postgresql_server_serves_tokens_without_the_sqlite_modules(tmp_path: Path) -> None:
    with fresh_pg_database() as url:
        config = write_config(tmp_path, f"database_url = {url!r}")
        prepare(config, tmp_path / "state")
        result = run_python(
            build(config, tmp_path / "state"),
            SERVE_TOKENS,
            f"""
            print(json.dumps({{"active": [str(active)], "sqlite": loaded({SQLITE_MODULES!r})}}))
            """,
            cwd=tmp_path,
        )
    assert result["active"] == ["True"]  # a reference token was stored in PostgreSQL and read back
    assert result["sqlite"] == []
