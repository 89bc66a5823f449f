"""A PostgreSQL worker that has served tokens has still loaded none of the SQLite modules (test_dialect_imports.py
checks the server as built; this one, collected in CI's PostgreSQL run, after requests that wrote and read)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.storage.conftest import fresh_pg_database
from tests.support.worker_modules import SQLITE_MODULES, modules_after_tokens

pytestmark = pytest.mark.postgres


def test_a_postgresql_server_serves_tokens_without_the_sqlite_modules(tmp_path: Path) -> None:
    with fresh_pg_database() as url:
        # the child issued a reference token into PostgreSQL and introspected it active (it fails otherwise)
        result = modules_after_tokens(tmp_path, f"database_url = {url!r}", {"sqlite": SQLITE_MODULES})
    assert result["sqlite"] == []
