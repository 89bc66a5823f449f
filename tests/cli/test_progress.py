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


def test_db_upgrade_reports_each_revision_it_applies(tmp_path):
    result = ok("db", "upgrade", "--database-url", f"sqlite:///{tmp_path}/r.db")
    assert result.stderr.splitlines() == [
        "applied revision 0001",
        "applied revision 0002",
        "applied revision 0003",
        "applied revision 0004",
        "applied revision 0005",
    ]
    again = ok("db", "upgrade", "--database-url", f"sqlite:///{tmp_path}/r.db")
    assert again.stderr == ""


def test_config_import_reports_entries_every_hundred_and_at_the_end(tmp_path):
    clients = "".join(
        f'[[clients]]\nclient_id = "c{i}"\nclient_secrets = ["s"]\nallowed_grant_types = ["client_credentials"]\n'
        f'allowed_scopes = ["api1"]\n'
        for i in range(150)
    )
    config = tmp_path / "c.toml"
    config.write_text(f'{clients}[[api_scopes]]\nname = "api1"\n')
    result = ok("config", "import", str(config), "--database-url", f"sqlite:///{tmp_path}/i.db")
    lines = result.stderr.splitlines()
    total = int(lines[-1].split("/")[1].split()[0])
    assert lines[0] == f"imported 100/{total} entries..."
    assert lines[-1] == f"imported {total}/{total} entries..."
    assert "150 clients" in result.stdout


def test_a_terminal_gets_one_redrawn_bar_for_the_import() -> None:
    from identityserver.cli.output import EntryProgress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    progress = EntryProgress("imported", stream)
    for done in range(1, 5):
        progress.written(done, 4)
    progress.finish()
    text = stream.getvalue()
    assert text.count("\r") == 4 and text.endswith("4/4 entries\n")
