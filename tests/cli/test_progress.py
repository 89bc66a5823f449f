"""Long work reports progress: plain lines per batch when stderr is not a terminal, a bar redrawn in place when
it is."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

from identityserver.cli.output import Progress
from identityserver.models.grants import PersistedGrant
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.stores import SqlPersistedGrantStore
from tests.cli.admin_support import ok


def test_cleanup_prints_a_line_per_batch_when_not_on_a_terminal(tmp_path):
    url = f"sqlite:///{tmp_path}/p.db"
    config = tmp_path / "c.toml"
    config.write_text(f'database_url = "{url}"\n[options.operational]\ntoken_cleanup_batch_size = 100\n')
    ok("db", "upgrade", "--config", str(config))
    now = datetime.now(UTC)

    async def seed() -> None:
        database = Database(url)
        store = SqlPersistedGrantStore(database)
        try:
            for i in range(250):
                await store.store(
                    PersistedGrant(f"k{i}", "refresh_token", "c", now, "{}", "s", expiration=now - timedelta(hours=1))
                )
        finally:
            await database.dispose()

    asyncio.run(seed())
    result = ok("cleanup", "--config", str(config))
    assert result.stderr.splitlines() == ["removed 100 grants...", "removed 100 grants...", "removed 50 grants..."]
    assert "removed 250 expired grants, 0 consumed grants, 0 expired device codes" in result.stdout


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_bar_is_redrawn_in_place():
    stream = Terminal()
    progress = Progress("imported", total=4, stream=stream)
    progress.advance(1, "entries")
    progress.advance(3, "entries")
    progress.finish()
    text = stream.getvalue()
    assert text.count("\r") == 2 and text.endswith("4/4 entries\n")
    assert "[" + "#" * 30 + "]" in text

    plain = io.StringIO()
    counting = Progress("removed", stream=plain)
    counting.advance(1000, "grants")
    counting.finish()
    assert plain.getvalue() == "removed 1000 grants...\n"
