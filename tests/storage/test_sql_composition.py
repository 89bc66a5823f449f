"""With the SQL stores (what ``identityserver serve`` uses), dynamic registration, CORS and the portal work over
the database's clients: a registered client gets tokens, its origin passes CORS, and the portal lists the
clients of the database."""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from identityserver.configuration.host import create_builder
from identityserver.crypto.hashing import sha256_base64
from identityserver.hosting.app import create_app
from identityserver.options import DynamicClientRegistrationOptions
from identityserver.ui import create_ui
from tests.support.data import test_configuration as canonical_configuration

ISSUER = "https://idp.example"
PORTAL_TOML = """
[[clients]]
client_id = "portal.app"
client_name = "Portal App"
allowed_grant_types = ["client_credentials"]
client_secrets = [{ value = "secret" }]
allowed_scopes = ["api1"]
allowed_cors_origins = ["https://app.example"]
initiate_login_uri = "https://app.example/signin"
"""


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = canonical_configuration(PORTAL_TOML)
    config.options = dataclasses.replace(
        config.options,
        issuer_uri=ISSUER,
        dynamic_client_registration=DynamicClientRegistrationOptions(
            enabled=True,  # a policy that lets the partner token register machine-to-machine clients for api1
            initial_access_tokens={
                "partner": {
                    "token_hash": sha256_base64("partner"),
                    "grant_types": ("client_credentials",),
                    "scopes": ("api1",),
                }
            },
        ),
    )
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


async def test_a_client_registered_dynamically_is_stored_and_gets_tokens(client: httpx.AsyncClient) -> None:
    registered = await client.post(
        "/connect/register",
        json={
            "grant_types": ["client_credentials"],
            "scope": "api1",
            "token_endpoint_auth_method": "client_secret_post",
        },
        headers={"Authorization": "Bearer partner"},
    )
    assert registered.status_code == 201, registered.text
    body = registered.json()
    token = await client.post(
        "/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": body["client_id"],
            "client_secret": body["client_secret"],
            "scope": "api1",
        },
    )
    assert token.status_code == 200, token.text


async def test_cors_allows_the_origins_of_the_database_clients_only(client: httpx.AsyncClient) -> None:
    allowed = await client.options(
        "/connect/token", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    )
    assert allowed.headers.get("access-control-allow-origin") == "https://app.example"
    refused = await client.options(
        "/connect/token", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in refused.headers


async def test_the_portal_lists_the_database_clients_with_a_login_link(client: httpx.AsyncClient) -> None:
    page = await client.get("/portal")
    assert page.status_code == 200
    assert "Portal App" in page.text
    assert "https://app.example/signin?iss=" in page.text


def test_the_listed_clients_come_from_the_database(tmp_path: Path) -> None:
    services = create_builder(canonical_configuration(PORTAL_TOML), tmp_path).build()
    assert type(services.client_list).__name__ == "SqlClientStore"
    assert type(services.client_configuration).__name__ == "SqlClientConfigurationStore"


async def test_a_registration_that_fails_half_way_leaves_no_client(client: httpx.AsyncClient, tmp_path: Path) -> None:
    """security.md F9: the database refuses the client's secret after its ``Clients`` row went in: the answer is a
    server error, and no half-registered client (a row without its secret, redirect URIs or scopes) is left."""
    (path,) = [p for p in tmp_path.rglob("*.db")]

    def count(table: str) -> int:
        with contextlib.closing(sqlite3.connect(path)) as connection:
            return int(connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])

    tables = ("Clients", "ClientSecrets", "ClientScopes", "ClientGrantTypes")
    before = {table: count(table) for table in tables}
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute(
            """CREATE TRIGGER refuse_secret BEFORE INSERT ON "ClientSecrets"
            BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"""
        )
        connection.commit()
    registration = {
        "grant_types": ["client_credentials"],
        "scope": "api1",
        "token_endpoint_auth_method": "client_secret_post",
    }
    refused = await client.post("/connect/register", json=registration, headers={"Authorization": "Bearer partner"})
    assert refused.status_code == 500 and refused.json()["error"] == "server_error", refused.text
    assert "Traceback" not in refused.text and "trigger" not in refused.text
    assert {table: count(table) for table in tables} == before
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("DROP TRIGGER refuse_secret")
        connection.commit()
    registered = await client.post("/connect/register", json=registration, headers={"Authorization": "Bearer partner"})
    assert registered.status_code == 201, registered.text
    assert count("Clients") == before["Clients"] + 1
