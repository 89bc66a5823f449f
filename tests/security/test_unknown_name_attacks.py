"""Issue 16 item 7 with the SQL stores ``serve`` uses: every token request naming an unknown client id, and
every introspection call naming an unknown API, cost a database query (a known one is cached), so unknown names
answered measurably slower and a flood of them loaded the database. Unknown names are now cached briefly too."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine

from identityserver.configuration.host import create_builder
from identityserver.hosting.app import create_app
from identityserver.ui import create_ui
from tests.support.data import test_configuration as canonical_configuration
from tests.support.server import basic

ISSUER = "https://idp.example"


@contextlib.contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


@contextlib.asynccontextmanager
async def sql_server(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = canonical_configuration()
    config.options = dataclasses.replace(config.options, issuer_uri=ISSUER)
    services = create_builder(config, tmp_path).build()
    for step in services.startup:
        await step()
    transport = httpx.ASGITransport(app=create_app(services, create_ui(services)))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            yield http
    finally:
        for step in services.shutdown:
            await step()


def reads_of(seen: list[str], table: str) -> int:
    return sum(1 for s in seen if s.lstrip().upper().startswith("SELECT") and f'FROM "{table}"' in s.replace("\n", " "))


async def test_unknown_client_ids_cost_one_query_not_one_per_request(tmp_path):
    async with sql_server(tmp_path) as http:
        form = {"grant_type": "client_credentials", "scope": "api1"}
        await http.post("/connect/token", data=form, headers=basic("m2m", "secret"))  # warm the known client
        with statements() as seen:
            for _ in range(10):
                response = await http.post("/connect/token", data=form, headers=basic("ghost", "secret"))
                assert response.status_code == 401 and response.json()["error"] == "invalid_client"
            for _ in range(10):
                assert (await http.post("/connect/token", data=form, headers=basic("m2m", "secret"))).status_code == 200
        assert reads_of(seen, "Clients") <= 1, [s for s in seen if "Clients" in s]


async def test_unknown_api_names_at_introspection_cost_one_query_not_one_per_request(tmp_path):
    async with sql_server(tmp_path) as http:
        with statements() as seen:
            for _ in range(10):
                response = await http.post(
                    "/connect/introspect", data={"token": "x" * 40}, headers=basic("no-such-api", "secret")
                )
                assert response.status_code == 401
        assert reads_of(seen, "ApiResources") <= 1, [s for s in seen if "ApiResources" in s]
