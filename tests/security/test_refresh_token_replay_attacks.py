"""A stolen one-time refresh token replayed after the legitimate client rotated it (RFC 9700 §4.14.2), with the
default ``delete_one_time_only_refresh_tokens_on_use``: the used token is gone, its tombstone is not, and the
replay revokes the whole family (refresh tokens and their access tokens). ``refresh_token_reuse_grace_period``
spares a client's own concurrent refreshes. In memory and over the SQL persisted-grant store."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from identityserver.constants import PersistedGrantTypes
from identityserver.models.grants import PersistedGrantFilter
from identityserver.options import OperationalStoreOptions
from identityserver.storage.sqlalchemy.stores import SqlPersistedGrantStore
from identityserver.storage.sqlalchemy.token_cleanup import SqlTokenCleanupService
from identityserver.stores.protocols import PersistedGrantStore
from tests.security.support import Served, bearer, server_with
from tests.storage.conftest import Backend, all_backends, open_backend, pg_session_url  # noqa: F401 (fixture)
from tests.support.browser import refresh, tokens_for
from tests.support.concurrency import InterleavingGrantStore
from tests.support.data import test_configuration as canonical_configuration
from tests.support.server import basic


@pytest.fixture(params=all_backends())
async def backend(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Backend]:
    async with open_backend(request.param, request, tmp_path) as opened:
        yield opened


@contextlib.asynccontextmanager
async def replay_server(backend: Backend, grace: int = 0, interleave: bool = False) -> AsyncIterator[Served]:
    def configure(builder: Any) -> None:
        if backend.kind != "in_memory":
            builder.add_persisted_grant_store(SqlPersistedGrantStore(backend.db))
        if interleave:
            builder.decorate(PersistedGrantStore, InterleavingGrantStore)

    grants = replace(canonical_configuration().options.persisted_grants, refresh_token_reuse_grace_period=grace)
    async with server_with(configure=configure, persisted_grants=grants) as server:
        yield server


def assert_invalid_grant(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"


async def introspect(server: Served, client_id: str, token: str) -> bool:
    response = await server.client.post(
        "/connect/introspect", data={"token": token}, headers=basic(client_id, "secret")
    )
    assert response.status_code == 200, response.text
    active: bool = response.json()["active"]
    return active


async def userinfo(server: Served, access_token: str) -> int:
    return (await server.client.get("/connect/userinfo", headers=bearer(access_token))).status_code


async def tombstones(server: Served) -> list[Any]:
    return await server.services.persisted_grants.get_all(
        PersistedGrantFilter(subject_id="1", type=PersistedGrantTypes.USED_REFRESH_TOKEN)
    )


async def cleanup(server: Served, backend: Backend) -> None:
    if backend.kind == "in_memory":
        await server.services.token_cleanup.cleanup_grants()
    else:
        await SqlTokenCleanupService(backend.db, OperationalStoreOptions(), server.clock).cleanup_grants()


async def test_replay_of_a_rotated_token_revokes_the_successor_and_every_access_token(backend):
    async with replay_server(backend) as server:
        stolen = await tokens_for(server.client)
        current = (await refresh(server.client, "web", stolen["refresh_token"])).json()
        assert await introspect(server, "web", current["refresh_token"])
        assert await userinfo(server, current["access_token"]) == 200

        assert_invalid_grant(await refresh(server.client, "web", stolen["refresh_token"]))  # the attacker

        assert not await introspect(server, "web", current["refresh_token"])
        assert_invalid_grant(await refresh(server.client, "web", current["refresh_token"]))  # the victim
        assert await userinfo(server, current["access_token"]) == 401
        assert await userinfo(server, stolen["access_token"]) == 401


async def test_replay_revokes_the_family_reference_access_tokens(backend):
    async with replay_server(backend) as server:
        stolen = await tokens_for(server.client, "web.reference", scope="openid api1 offline_access")
        current = (await refresh(server.client, "web.reference", stolen["refresh_token"])).json()
        assert await userinfo(server, current["access_token"]) == 200
        assert_invalid_grant(await refresh(server.client, "web.reference", stolen["refresh_token"]))
        assert await userinfo(server, current["access_token"]) == 401
        assert_invalid_grant(await refresh(server.client, "web.reference", current["refresh_token"]))


async def test_replay_after_the_victim_rotated_again_still_revokes_the_family(backend):
    async with replay_server(backend) as server:
        stolen = await tokens_for(server.client)
        second = (await refresh(server.client, "web", stolen["refresh_token"])).json()
        server.clock.advance(days=3)
        third = (await refresh(server.client, "web", second["refresh_token"])).json()
        assert_invalid_grant(await refresh(server.client, "web", stolen["refresh_token"]))
        assert not await introspect(server, "web", third["refresh_token"])
        assert await userinfo(server, third["access_token"]) == 401


async def test_replay_leaves_another_grant_of_the_same_user_alone(backend):
    async with replay_server(backend) as server:
        stolen = await tokens_for(server.client)
        other = await tokens_for(server.client)
        await refresh(server.client, "web", stolen["refresh_token"])
        assert_invalid_grant(await refresh(server.client, "web", stolen["refresh_token"]))
        assert (await refresh(server.client, "web", other["refresh_token"])).status_code == 200


async def test_within_the_grace_period_a_replay_is_refused_and_revokes_nothing_after_it_revokes(backend):
    async with replay_server(backend, grace=60) as server:
        first = await tokens_for(server.client)
        current = (await refresh(server.client, "web", first["refresh_token"])).json()
        server.clock.advance(59)
        assert_invalid_grant(await refresh(server.client, "web", first["refresh_token"]))
        assert await introspect(server, "web", current["refresh_token"])
        assert await userinfo(server, current["access_token"]) == 200
        server.clock.advance(2)
        assert_invalid_grant(await refresh(server.client, "web", first["refresh_token"]))
        assert not await introspect(server, "web", current["refresh_token"])
        assert await userinfo(server, current["access_token"]) == 401


@pytest.mark.parametrize("grace", [0, 30])
async def test_parallel_refreshes_give_one_success_and_the_rest_are_reuse(backend, grace):
    async with replay_server(backend, grace=grace, interleave=True) as server:
        token = (await tokens_for(server.client))["refresh_token"]
        responses = await asyncio.gather(*(refresh(server.client, "web", token) for _ in range(10)))
        assert sorted(r.status_code for r in responses) == [200] + [400] * 9
        assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}
        winner = next(r.json() for r in responses if r.status_code == 200)
        # no grace: a concurrent use is a reuse and the family dies; with grace: the winner's tokens live
        assert await introspect(server, "web", winner["refresh_token"]) == (grace > 0)


async def test_tombstones_never_hold_the_handle_and_are_removed_by_the_cleanup_once_expired(backend):
    async with replay_server(backend) as server:
        first = await tokens_for(server.client)
        await refresh(server.client, "web", first["refresh_token"])
        [tombstone] = await tombstones(server)
        assert first["refresh_token"] not in tombstone.key and first["refresh_token"] not in tombstone.data
        server.clock.advance(days=29)
        await cleanup(server, backend)
        assert len(await tombstones(server)) == 1  # the web client's absolute lifetime is 30 days
        server.clock.advance(days=1, seconds=1)
        await cleanup(server, backend)
        assert await tombstones(server) == []
