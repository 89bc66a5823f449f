"""Running the admin commands as real subprocesses against a migrated database: SQLite always, PostgreSQL too
(marked ``postgres``) when IDENTITYSERVER_TEST_DATABASE_URL is set; a set but unreachable server fails."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from identityserver.configuration.host import create_builder
from identityserver.configuration.loader import Configuration
from identityserver.hosting.app import create_app
from identityserver.hosting.services import Services
from identityserver.ui import create_ui

PG_ENV = "IDENTITYSERVER_TEST_DATABASE_URL"
ISSUER = "https://idp.example"


def identityserver(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "identityserver", *args],
        capture_output=True,
        check=False,
        text=True,
        input=stdin,
        timeout=120,
    )


def ok(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    result = identityserver(*args, stdin=stdin)
    assert result.returncode == 0, f"{args}: {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def as_json(*args: str, stdin: str | None = None) -> Any:
    """The one JSON document a ``--json`` command prints."""
    return json.loads(ok(*args, "--json", stdin=stdin).stdout)


def backends() -> list[Any]:
    params: list[Any] = ["sqlite"]
    if os.environ.get(PG_ENV):
        params.append(pytest.param("postgresql", marks=pytest.mark.postgres))
    return params


@contextlib.contextmanager
def migrated_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database at the head revision, prepared by ``identityserver db upgrade``."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path}/admin.db"
        ok("db", "upgrade", "--database-url", url)
        yield url
        return
    from tests.storage.conftest import fresh_pg_database

    with fresh_pg_database() as url:
        ok("db", "upgrade", "--database-url", url)
        yield url


@contextlib.asynccontextmanager
async def server(url: str, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """The server on that database, in process."""
    config = Configuration(database_url=url)
    services = create_builder(config, tmp_path / "state", ISSUER).build()
    for step in services.startup:
        await step()
    transport = httpx.ASGITransport(app=create_app(services, create_ui(services)))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            yield http, services
    finally:
        for step in services.shutdown:
            await step()
