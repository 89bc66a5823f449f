"""The ``claims`` request (OIDC Core §5.5) persisted with the authorization code and the refresh token in the SQL
stores (SQLite, and PostgreSQL when IDENTITYSERVER_TEST_DATABASE_URL is set): what the code carries reaches the
ID token, and the userinfo claims survive a refresh (docs/claims-parameter.md)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from identityserver.configuration.host import create_builder
from tests.endpoints.test_claims_parameter import client_toml, code_tokens, userinfo
from tests.storage.conftest import fresh_pg_database, sql_backends
from tests.support.browser import refresh
from tests.support.client_auth import jwt_parts
from tests.support.clock import FakeClock
from tests.support.data import test_configuration as configuration_with
from tests.support.server import running


@contextlib.contextmanager
def database_url(backend: str, tmp_path: Path) -> Iterator[str | None]:
    if backend == "sqlite":
        yield None  # the state folder's SQLite file
        return
    with fresh_pg_database() as url:
        yield url


@pytest.mark.parametrize("backend", sql_backends())
async def test_requested_claims_travel_through_the_sql_grant_stores(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        config: Any = configuration_with(client_toml())
        if url is not None:
            config = dataclasses.replace(config, database_url=url)
        builder = create_builder(config, tmp_path, issuer_uri="https://idp.example")
        builder.set_clock(FakeClock())
        async with running(builder) as server:
            requested = {"id_token": {"email": {"essential": True}}, "userinfo": {"name": None}}
            body = await code_tokens(server, scope="openid offline_access", claims=json.dumps(requested))
            assert jwt_parts(body["id_token"])[1]["email"] == "alice@example.com"
            refreshed = await refresh(server.client, "claims.web", body["refresh_token"])
            assert refreshed.status_code == 200, refreshed.text
            assert await userinfo(server, refreshed.json()["access_token"]) == {"sub": "1", "name": "Alice Smith"}
            for step in server.services.shutdown:
                await step()
