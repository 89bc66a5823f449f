"""`identityserver db upgrade | current | downgrade` and `identityserver config import`."""

from __future__ import annotations

import asyncio
import sqlite3

from identityserver.cli import main
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.stores import SqlClientStore, SqlResourceStore, SqlUserStore

CONFIG = """
[[clients]]
client_id = "imported"
client_secrets = ["s3cret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[api_scopes]]
name = "api1"

[[users]]
subject_id = "42"
username = "carol"
password = "pw"
"""


def run(*args):
    return main(list(args))


def url(tmp_path):
    return f"sqlite:///{tmp_path}/cli.db"


def test_upgrade_creates_the_schema_and_a_second_run_changes_nothing(tmp_path, capsys):
    assert run("db", "upgrade", "--database-url", url(tmp_path)) == 0
    assert "upgraded from an empty database to 0005" in capsys.readouterr().out
    schema = sqlite3.connect(tmp_path / "cli.db").execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    assert run("db", "upgrade", "--database-url", url(tmp_path)) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert (
        sqlite3.connect(tmp_path / "cli.db").execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
    )


def test_current_and_downgrade(tmp_path, capsys):
    run("db", "upgrade", "--database-url", url(tmp_path))
    capsys.readouterr()
    assert run("db", "current", "--database-url", url(tmp_path)) == 0
    assert capsys.readouterr().out.strip() == "0005 (head)"
    assert run("db", "downgrade", "0001", "--database-url", url(tmp_path)) == 0
    run("db", "current", "--database-url", url(tmp_path))
    assert "0001 (head is 0005)" in capsys.readouterr().out
    assert run("db", "downgrade", "base", "--database-url", url(tmp_path)) == 2
    assert "--drop-all-tables" in capsys.readouterr().err
    assert run("db", "downgrade", "base", "--drop-all-tables", "--database-url", url(tmp_path)) == 0


def test_upgrade_refuses_a_database_in_an_unknown_state(tmp_path, capsys):
    conn = sqlite3.connect(tmp_path / "cli.db")
    conn.execute('CREATE TABLE "Clients" ("Id" INTEGER PRIMARY KEY, "ClientId" TEXT)')
    conn.commit()
    assert run("db", "upgrade", "--database-url", url(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "refusing to migrate" in err and "missing tables" in err
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"Clients"}


def test_upgrade_reads_the_database_url_from_the_configuration_file(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text(f'database_url = "{url(tmp_path)}"\n')
    assert run("db", "upgrade", "--config", str(config)) == 0
    assert (tmp_path / "cli.db").exists()


def test_config_import_loads_clients_resources_and_users(tmp_path, capsys):
    config = tmp_path / "import.toml"
    config.write_text(CONFIG)
    assert run("config", "import", str(config), "--database-url", url(tmp_path)) == 0
    assert "imported 1 client, 3 identity resources, 1 API scope, 1 user\n" in capsys.readouterr().out
    assert run("config", "import", str(config), "--database-url", url(tmp_path)) == 0  # replaces, no duplicates

    async def check():
        database = Database(url(tmp_path))
        try:
            client = await SqlClientStore(database).find_client_by_id("imported")
            scopes = await SqlResourceStore(database).find_api_scopes_by_name(["api1"])
            user = await SqlUserStore(database).validate_credentials("CAROL", "pw")
            return client, scopes, user
        finally:
            await database.dispose()

    client, scopes, user = asyncio.run(check())
    assert client is not None and client.allowed_grant_types == ["client_credentials"]
    assert client.client_secrets[0].value != "s3cret"  # stored hashed
    assert [s.name for s in scopes] == ["api1"]
    assert user is not None and user.subject_id == "42"


def test_config_import_reports_configuration_errors(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("[[clients]]\nclient_id = 5\n")
    assert run("config", "import", str(config), "--database-url", url(tmp_path)) == 2
    assert "configuration error" in capsys.readouterr().err
