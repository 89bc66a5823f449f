"""``serve --config FILE`` applies the file's clients, resources and users to the database at every start
(issue 10, "the file you pass is what is served"), against SQLite and PostgreSQL, as real processes: a database
made by ``db upgrade`` serves the file's clients; entries not in the file stay; a changed secret wins at the next
start; ``apply_configuration = false`` warns and writes nothing; concurrent starts end with the file's content;
a file that cannot be applied stops start-up and changes nothing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from identityserver.configuration.loader import ConfigError, parse_configuration
from identityserver.crypto.hashing import sha256_base64
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities import metadata
from identityserver.storage.sqlalchemy.entities.configuration import client_secrets, clients
from tests.cli.test_serve import serve
from tests.storage.conftest import fresh_pg_database, sql_backends

APPLIED = "applied 7 clients, 3 identity resources, 2 API scopes, 2 API resources, 3 users from {path}"
CONFIGURATION_TABLES = ("Clients", "ClientSecrets", "ClientScopes", "ApiScopes", "ApiResources", "IdentityServerUsers")


def configuration(database_url: str, secret: str = "secret-0", extra: str = "") -> str:
    """Seven clients (six client_credentials, one password), two APIs with a scope each, three users."""
    text = f'database_url = "{database_url}"\n{extra}\n'
    for i in range(6):
        text += f"""
[[clients]]
client_id = "client-{i}"
client_secrets = ["{secret if i == 0 else f"secret-{i}"}"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["{"api1" if i % 2 == 0 else "api2"}"]
"""
    text += """
[[clients]]
client_id = "ropc"
client_secrets = ["ropc-secret"]
allowed_grant_types = ["password"]
allowed_scopes = ["openid", "api1"]

[[api_scopes]]
name = "api1"
[[api_scopes]]
name = "api2"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
[[api_resources]]
name = "urn:api2"
scopes = ["api2"]
"""
    for name in ("alice", "bob", "carol"):
        text += f'\n[[users]]\nsubject_id = "{name}-id"\nusername = "{name}"\npassword = "{name}-password"\n'
    return text


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "identityserver", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def upgrade(database_url: str) -> None:
    result = cli("db", "upgrade", "--database-url", database_url)
    assert result.returncode == 0, result.stderr


def query(database_url: str, statement: Any) -> list[Any]:
    async def run() -> list[Any]:
        database = Database(database_url)
        try:
            async with database.read() as conn:
                return list((await conn.execute(statement)).all())
        finally:
            await database.dispose()

    return asyncio.run(run())


def client_ids(database_url: str) -> list[str]:
    return sorted(row[0] for row in query(database_url, select(clients.c.ClientId)))


def snapshot(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the configuration tables (``Id`` included: a rewrite would show)."""
    tables = {name: metadata.tables[name] for name in CONFIGURATION_TABLES}
    return {name: sorted(map(tuple, query(database_url, select(t))), key=repr) for name, t in tables.items()}


def token(base_url: str, client_id: str, secret: str, **data: str) -> httpx.Response:
    form = {"grant_type": "client_credentials", **data}
    return httpx.post(f"{base_url}/connect/token", data=form, auth=(client_id, secret), timeout=30)


@pytest.fixture(params=sql_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own: a SQLite file, or a new PostgreSQL database (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'x.db'}"
        return
    with fresh_pg_database() as url:
        yield url


def test_serve_applies_the_file_to_a_database_made_by_db_upgrade(tmp_path, database_url):
    upgrade(database_url)
    config = tmp_path / "c.toml"
    config.write_text(configuration(database_url))
    with serve("--config", str(config), "--state-path", str(tmp_path / "state")) as server:
        output = "".join(server.output)
        assert f"identityserver: {APPLIED.format(path=config)}\n" in output
        assert f"INFO identityserver {APPLIED.format(path=config)}" in output  # logged as well
        for i in range(6):
            response = token(server.base_url, f"client-{i}", f"secret-{i}")
            assert response.status_code == 200, response.text
            assert response.json()["scope"] == ("api1" if i % 2 == 0 else "api2")
        password = token(
            server.base_url, "ropc", "ropc-secret", grant_type="password", username="bob", password="bob-password"
        )
        assert password.status_code == 200, password.text
        assert "secret-0" not in output and "bob-password" not in output
    assert client_ids(database_url) == sorted([*(f"client-{i}" for i in range(6)), "ropc"])


def test_a_second_start_applies_the_changed_file_and_keeps_entries_that_are_not_in_it(tmp_path, database_url):
    upgrade(database_url)
    earlier = tmp_path / "earlier.toml"
    earlier.write_text(
        '[[clients]]\nclient_id = "imported-earlier"\nclient_secrets = ["earlier-secret"]\n'
        'allowed_grant_types = ["client_credentials"]\nallowed_scopes = ["api1"]\n'
    )
    assert cli("config", "import", str(earlier), "--database-url", database_url).returncode == 0
    config = tmp_path / "c.toml"
    registration = (  # a machine-to-machine registration needs an initial access token whose policy allows it
        "[options.dynamic_client_registration]\nenabled = true\n"
        "[options.dynamic_client_registration.initial_access_tokens.ops]\n"
        f'token_hash = "{sha256_base64("ops-token")}"\ngrant_types = ["client_credentials"]\nscopes = ["api1"]\n'
    )
    config.write_text(configuration(database_url, extra=registration))
    state = str(tmp_path / "state")
    with serve("--config", str(config), "--state-path", state) as server:
        registered = httpx.post(
            f"{server.base_url}/connect/register",
            json={"grant_types": ["client_credentials"], "scope": "api1"},
            headers={"Authorization": "Bearer ops-token"},
        )
        assert registered.status_code == 201, registered.text
        dynamic = registered.json()
        assert token(server.base_url, "client-0", "secret-0").status_code == 200

    config.write_text(configuration(database_url, secret="rotated-secret", extra=registration))
    with serve("--config", str(config), "--state-path", state) as server:
        assert APPLIED.format(path=config) in "".join(server.output)
        assert token(server.base_url, "client-0", "secret-0").json()["error"] == "invalid_client"
        assert token(server.base_url, "client-0", "rotated-secret").status_code == 200
        assert token(server.base_url, dynamic["client_id"], dynamic["client_secret"]).status_code == 200
        assert token(server.base_url, "imported-earlier", "earlier-secret").status_code == 200
    secrets = {row[0] for row in query(database_url, select(client_secrets.c.Value))}
    assert sha256_base64("rotated-secret") in secrets
    assert sha256_base64("secret-0") not in secrets


def test_apply_configuration_false_warns_and_writes_nothing(tmp_path, database_url):
    upgrade(database_url)
    config = tmp_path / "c.toml"
    config.write_text(configuration(database_url, extra="apply_configuration = false"))
    with serve("--config", str(config), "--state-path", str(tmp_path / "state")) as server:
        output = "".join(server.output)
        warning = (
            f"{config} has 7 clients, 2 API scopes, 2 API resources, 3 users that were not applied: "
            "apply_configuration = false"
        )
        assert f"identityserver: warning: {warning}\n" in output
        assert f"WARNING identityserver {warning}" in output
        assert "applied 7" not in output
        assert token(server.base_url, "client-1", "secret-1").json()["error"] == "invalid_client"
    assert client_ids(database_url) == []


def test_a_file_without_entries_changes_nothing_and_says_nothing_about_applying(tmp_path, database_url):
    upgrade(database_url)
    config = tmp_path / "c.toml"
    config.write_text(
        f'database_url = "{database_url}"\n'
        "[options.persisted_grants]\ndelete_one_time_only_refresh_tokens_on_use = true\n"
    )
    before = snapshot(database_url)
    result = cli("db", "prepare", "--config", str(config), "--state-path", str(tmp_path / "state"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [database_url]
    assert snapshot(database_url) == before


@pytest.mark.parametrize("new_database", [False, True], ids=["upgraded", "new"])
def test_concurrent_starts_apply_the_file_once_each_and_end_with_its_entries(tmp_path, database_url, new_database):
    if not new_database:
        upgrade(database_url)
    config = tmp_path / "c.toml"
    config.write_text(configuration(database_url))
    command = [sys.executable, "-m", "identityserver", "db", "prepare", "--config", str(config)]
    starts = [
        subprocess.Popen([*command, "--state-path", str(tmp_path / f"s{i}")], stdout=subprocess.PIPE, text=True)
        for i in range(4)
    ]
    outputs = [start.communicate(timeout=120)[0] for start in starts]
    assert [start.returncode for start in starts] == [0] * 4, outputs
    assert all(APPLIED.format(path=config) in output for output in outputs)
    assert client_ids(database_url) == sorted([*(f"client-{i}" for i in range(6)), "ropc"])
    per_client = select(client_secrets.c.ClientId, func.count()).group_by(client_secrets.c.ClientId)
    assert [row[1] for row in query(database_url, per_client)] == [1] * 7


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            '[[clients]]\nclient_id = "client-1"\nallowed_grant_types = ["implicit"]\n',
            'clients[7] (client_id "client-1"): field "client_id": duplicate client_id',
        ),
        (
            '[[clients]]\nclient_id = "bad-secret"\nclient_secrets = [{ type = "Password", value = "ab" }]\n'
            'allowed_grant_types = ["client_credentials"]\n',
            'clients[7] (client_id "bad-secret"): field "client_secrets": unsupported secret type',
        ),
        (
            '[[clients]]\nclient_id = "bad-grant"\nallowed_grant_types = ["implicit", "authorization_code"]\n',
            'clients[7] (client_id "bad-grant"): field "allowed_grant_types"',
        ),
        (  # a typo: serve registers no extension grants
            '[[clients]]\nclient_id = "typo"\nallowed_grant_types = ["client_credential"]\nclient_secrets = ["s"]\n',
            'clients[7] (client_id "typo"): field "allowed_grant_types": unknown grant type \'client_credential\'',
        ),
        (  # valid for the loader; only the database's column length refuses it
            f'[[clients]]\nclient_id = "long-name"\nclient_name = "{"n" * 201}"\n'
            'allowed_grant_types = ["client_credentials"]\nclient_secrets = ["s"]\n',
            'clients[7] (client_id "long-name"): field "client_name": 201 characters, the database holds at most 200',
        ),
        (
            '[[clients]]\nclient_id = "huge"\naccess_token_lifetime = 3000000000\n'
            'allowed_grant_types = ["client_credentials"]\nclient_secrets = ["s"]\n',
            'clients[7] (client_id "huge"): field "access_token_lifetime": 3000000000 is out of range',
        ),
    ],
    ids=["duplicate-id", "secret-type", "grant-combination", "unknown-grant", "too-long", "out-of-range"],
)
def test_a_file_that_cannot_be_applied_stops_start_up_and_changes_nothing(tmp_path, database_url, entry, expected):
    upgrade(database_url)
    good = tmp_path / "good.toml"
    good.write_text(configuration(database_url))
    assert cli("db", "prepare", "--config", str(good), "--state-path", str(tmp_path / "state")).returncode == 0
    before = snapshot(database_url)
    # the bad entry comes last, after seven entries that would change the database (new secrets)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        configuration(database_url, secret="changed").replace("[[api_scopes]]", entry + "\n[[api_scopes]]", 1)
    )
    result = cli("serve", "--config", str(bad), "--state-path", str(tmp_path / "state"), "--port", "1")
    assert result.returncode == 2, result.stdout
    assert "configuration error" in result.stderr
    assert f"{bad}: {expected}" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(database_url) == before


@pytest.mark.parametrize(("value", "applied"), [("true", True), ("false", False), (None, True)])
def test_the_apply_configuration_key(value, applied):
    text = f"apply_configuration = {value}\n" if value else ""
    assert parse_configuration(tomllib.loads(text), "c.toml").apply_configuration is applied
    with pytest.raises(ConfigError, match=r'c\.toml: top level: field "apply_configuration": expected a boolean'):
        parse_configuration({"apply_configuration": "no"}, "c.toml")
