"""`identityserver cleanup`: one pass of the token cleanup service against the configured database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from identityserver.cli import main
from identityserver.models.grants import PersistedGrant, PersistedGrantFilter
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.stores import SqlPersistedGrantStore


def test_cleanup_removes_expired_and_consumed_grants_once(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/c.db"
    config = tmp_path / "c.toml"
    config.write_text(f'database_url = "{url}"\n[options.operational]\nremove_consumed_tokens = true\n')
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    now = datetime.now(UTC)

    async def seed_and_count(seed: bool) -> set[str]:
        database = Database(url)
        store = SqlPersistedGrantStore(database)
        try:
            if seed:
                for key, expiration, consumed in (
                    ("expired", now - timedelta(hours=1), None),
                    ("consumed", now + timedelta(hours=1), now - timedelta(minutes=1)),
                    ("live", now + timedelta(hours=1), None),
                ):
                    await store.store(
                        PersistedGrant(
                            key, "refresh_token", "c", now, "{}", "s", expiration=expiration, consumed_time=consumed
                        )
                    )
            return {g.key for g in await store.get_all(PersistedGrantFilter(client_id="c"))}
        finally:
            await database.dispose()

    assert asyncio.run(seed_and_count(True)) == {"expired", "consumed", "live"}
    capsys.readouterr()
    assert main(["cleanup", "--config", str(config)]) == 0
    assert "removed 1 expired grants, 1 consumed grants, 0 expired device codes" in capsys.readouterr().out
    assert asyncio.run(seed_and_count(False)) == {"live"}


def test_cleanup_refuses_a_database_that_is_not_migrated(tmp_path, capsys):
    assert main(["cleanup", "--database-url", f"sqlite:///{tmp_path}/empty.db"]) == 2
    assert "db upgrade" in capsys.readouterr().err
