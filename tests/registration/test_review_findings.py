"""Regressions found by an adversarial review of dynamic registration management (RFC 7592)."""

from __future__ import annotations

import asyncio
import dataclasses
import tomllib

import pytest

from identityserver.configuration.host import create_builder
from identityserver.configuration.loader import parse_configuration
from tests.registration.support import running_sql
from tests.registration.test_management import (
    CODE_CLIENT,
    CONFIG,
    M2M_CLIENT,
    OPTIONS,
    builder,
    manage,
    register,
    update_of,
)
from tests.support.clock import FakeClock
from tests.support.server import running


@pytest.mark.parametrize(
    "member",
    ["registration_access_token", "registration_client_uri", "client_secret_expires_at", "client_id_issued_at"],
)
async def test_put_with_server_issued_members_is_refused_and_changes_nothing(member):
    """RFC 7592 §2.2: an update MUST NOT include these members (security.md item 131: 400 invalid_client_metadata)."""
    async with running(builder(initial_access_tokens={})) as server:
        registered = await register(server, CODE_CLIENT)
        body = update_of(registered, client_name="Changed", **{member: registered[member]})
        response = await manage(server, "PUT", registered, body)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_client_metadata"
        assert member in response.json()["error_description"]
        assert (await manage(server, "GET", registered)).json()["client_name"] == "App"


async def test_concurrent_updates_with_one_rotating_token_yield_one_new_token(tmp_path):
    """With rotation on, a registration access token is used once (RFC 7592 §3 lets the server rotate it): of
    parallel updates with the same token (a stolen copy raced against its owner) exactly one succeeds, so the
    old token cannot fork into several live tokens. SQL stores, where the requests interleave."""
    config = parse_configuration(tomllib.loads(CONFIG))
    options = dataclasses.replace(OPTIONS, rotate_registration_access_token=True)
    config.options = dataclasses.replace(
        config.options, issuer_uri="https://idp.example", dynamic_client_registration=options
    )
    sql_builder = create_builder(config, tmp_path)
    sql_builder.set_clock(FakeClock())
    async with running_sql(sql_builder) as server:
        registered = await register(server, M2M_CLIENT)
        body = {"client_id": registered["client_id"], **M2M_CLIENT}
        results = await asyncio.gather(*(manage(server, "PUT", registered, body) for _ in range(4)))
        assert sorted(r.status_code for r in results) == [200, 401, 401, 401], [r.text for r in results]
        [winner] = [r.json()["registration_access_token"] for r in results if r.status_code == 200]
        assert (await manage(server, "GET", registered, token=winner)).status_code == 200


async def test_parallel_deletes_and_updates_of_one_client_never_answer_500(tmp_path):
    """A client deleted while another request on its configuration endpoint is in flight: that request gets the
    401 of a gone client (RFC 7592 §2.1), not a 500 from the store."""
    config = parse_configuration(tomllib.loads(CONFIG))
    config.options = dataclasses.replace(
        config.options, issuer_uri="https://idp.example", dynamic_client_registration=OPTIONS
    )
    sql_builder = create_builder(config, tmp_path)
    sql_builder.set_clock(FakeClock())
    async with running_sql(sql_builder) as server:
        for _ in range(3):
            registered = await register(server, M2M_CLIENT)
            body = {"client_id": registered["client_id"], **M2M_CLIENT}
            results = await asyncio.gather(
                manage(server, "DELETE", registered),
                manage(server, "DELETE", registered),
                manage(server, "PUT", registered, body),
            )
            statuses = [r.status_code for r in results]
            assert 500 not in statuses and statuses.count(204) >= 1, [r.text for r in results]
            assert set(statuses) <= {200, 204, 401}, statuses
            assert (await manage(server, "GET", registered)).status_code == 401
