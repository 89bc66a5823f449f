"""A database created exactly as IdentityServer 6.2's EF migrations create it, with clients and hashed secrets
inserted as IdentityServer stores them: `identityserver db upgrade` takes it over and `identityserver serve`
authenticates those clients over HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from identityserver.crypto.hashing import sha256_base64
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.types import format_ef_datetime
from tests.storage import ef_schema
from tests.storage.conftest import fresh_pg_database, sql_backends
from tests.storage.schema_tools import execute_all

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-m", "identityserver", *args],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def insert_ef_client(database: Database, dialect: str, client_id: str, secret: str) -> None:
    """Rows as IdentityServer 6.2 writes them for a client_credentials client with one shared secret."""
    now = datetime(2023, 3, 1, 8, 0, tzinfo=UTC)
    when = format_ef_datetime(now) if dialect == "sqlite" else now
    true, false = (1, 0) if dialect == "sqlite" else (True, False)
    columns = {c.name: c for c in ef_schema.table_columns("6.2")["Clients"] if c.type not in ("id", "lid")}
    values = {
        name: (None if col.nullable else false if col.type == "bool" else 300 if col.type == "int" else "")
        for name, col in columns.items()
    }
    values.update(
        Enabled=true,
        ClientId=client_id,
        ProtocolType="oidc",
        RequireClientSecret=true,
        RequirePkce=true,
        AllowRememberConsent=true,
        FrontChannelLogoutSessionRequired=true,
        BackChannelLogoutSessionRequired=true,
        EnableLocalLogin=true,
        IncludeJwtId=true,
        ClientClaimsPrefix="client_",
        AccessTokenLifetime=3600,
        AbsoluteRefreshTokenLifetime=2592000,
        SlidingRefreshTokenLifetime=1296000,
        RefreshTokenUsage=1,
        RefreshTokenExpiration=1,
        AccessTokenType=0,
        Created=when,
        ClientName="Migrated " + client_id,
    )
    async with database.engine.begin() as conn:
        names = ", ".join(f'"{n}"' for n in values)
        params = ", ".join(f":{n}" for n in values)
        client_pk = (
            await conn.execute(text(f'INSERT INTO "Clients" ({names}) VALUES ({params}) RETURNING "Id"'), values)
        ).scalar_one()
        await conn.execute(
            text(
                'INSERT INTO "ClientSecrets" ("ClientId", "Description", "Value", "Expiration", "Type", "Created") '
                "VALUES (:c, NULL, :v, NULL, 'SharedSecret', :t)"
            ),
            {"c": client_pk, "v": sha256_base64(secret), "t": when},
        )
        await conn.execute(
            text('INSERT INTO "ClientGrantTypes" ("GrantType", "ClientId") VALUES (\'client_credentials\', :c)'),
            {"c": client_pk},
        )
        await conn.execute(
            text('INSERT INTO "ClientScopes" ("Scope", "ClientId") VALUES (\'api1\', :c)'), {"c": client_pk}
        )


async def create_identityserver_62_database(url: str, dialect: str) -> None:
    database = Database(url)
    try:
        await execute_all(database, ef_schema.ddl(dialect, "6.2"))
        async with database.engine.begin() as conn:
            await conn.execute(
                text(
                    'INSERT INTO "ApiScopes" ("Enabled", "Name", "Required", "Emphasize", "ShowInDiscoveryDocument", '
                    '"Created", "NonEditable") VALUES (:t, \'api1\', :f, :f, :t, :c, :f)'
                ),
                {
                    "t": 1 if dialect == "sqlite" else True,
                    "f": 0 if dialect == "sqlite" else False,
                    "c": "2023-03-01 08:00:00" if dialect == "sqlite" else datetime(2023, 3, 1, tzinfo=UTC),
                },
            )
        await insert_ef_client(database, dialect, "legacy.m2m", "legacy-secret")
        await insert_ef_client(database, dialect, "legacy.other", "other-secret")
    finally:
        await database.dispose()


@contextlib.contextmanager
def database_url(kind: str, tmp_path: Path):
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'is62.db'}"
    else:
        with fresh_pg_database() as url:
            yield url


@pytest.mark.parametrize("kind", sql_backends())
async def test_identityserver_62_database_is_upgraded_and_served(kind, tmp_path):
    with database_url(kind, tmp_path) as url:
        await create_identityserver_62_database(url, "sqlite" if kind == "sqlite" else "postgresql")

        upgraded = await asyncio.to_thread(cli, "db", "upgrade", "--database-url", url, cwd=tmp_path)
        assert upgraded.returncode == 0, upgraded.stderr
        assert "IdentityServer 6.2" in upgraded.stdout and "0005" in upgraded.stdout
        again = await asyncio.to_thread(cli, "db", "upgrade", "--database-url", url, cwd=tmp_path)
        assert again.returncode == 0 and "nothing to do" in again.stdout
        current = await asyncio.to_thread(cli, "db", "current", "--database-url", url, cwd=tmp_path)
        assert current.stdout.strip() == "0005 (head)"

        config = tmp_path / "server.toml"
        config.write_text(f'database_url = "{url}"\n', encoding="utf-8")
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "identityserver",
                "serve",
                "--config",
                str(config),
                "--port",
                str(port),
                "--state-path",
                str(tmp_path / "state"),
                "--log-level",
                "warning",
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                for _ in range(150):
                    if server.poll() is not None:
                        pytest.fail(f"server exited: {server.stdout.read() if server.stdout else ''}")
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get("/.well-known/openid-configuration")).status_code == 200:
                            break
                    await asyncio.sleep(0.2)
                token = await client.post(
                    "/connect/token",
                    data={"grant_type": "client_credentials", "scope": "api1"},
                    auth=("legacy.m2m", "legacy-secret"),
                )
                assert token.status_code == 200, token.text
                assert token.json()["token_type"] == "Bearer"
                wrong = await client.post(
                    "/connect/token",
                    data={"grant_type": "client_credentials", "scope": "api1"},
                    auth=("legacy.other", "legacy-secret"),
                )
                assert wrong.status_code in (400, 401) and wrong.json()["error"] == "invalid_client"
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
