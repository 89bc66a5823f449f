"""The host on a database: a fresh state folder is migrated and loaded, an old database is refused, the SQL
stores serve token requests, and the periodic token cleanup job (Duende TokenCleanupHost)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from identityserver.configuration.demo import demo_configuration
from identityserver.configuration.host import create_builder, prepare_database
from identityserver.hosting.background import token_cleanup_job
from identityserver.options import OperationalStoreOptions
from identityserver.storage.sqlalchemy import migrate
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.stores import SqlClientStore
from tests.support import data as test_data
from tests.support.clock import FakeClock
from tests.support.server import basic, running


def test_a_fresh_state_folder_gets_a_migrated_database_with_the_demo_configuration(tmp_path):
    url = prepare_database(demo_configuration(), tmp_path / "state")
    assert url.endswith("state/identityserver.db")

    async def find():
        database = Database(url)
        try:
            return await SqlClientStore(database).find_client_by_id("m2m"), await migrate.inspect_state(database)
        finally:
            await database.dispose()

    client, state = asyncio.run(find())
    assert client is not None and state.revision == migrate.head_revision()
    assert (tmp_path / "state" / "identityserver.db").stat().st_mode & 0o077 == 0
    prepare_database(demo_configuration(), tmp_path / "state")  # a second start is fine


def test_a_database_at_an_older_revision_is_refused_at_start(tmp_path):
    config = dataclasses.replace(demo_configuration(), database_url=f"sqlite:///{tmp_path}/old.db")

    async def downgrade():
        database = Database(config.database_url)
        try:
            await migrate.upgrade(database, "0002")
        finally:
            await database.dispose()

    asyncio.run(downgrade())
    with pytest.raises(migrate.DatabaseStateError, match="identityserver db upgrade"):
        prepare_database(config, tmp_path)


async def test_sql_stores_serve_token_requests_and_cache_the_client(tmp_path):
    builder = create_builder(test_data.test_configuration(), tmp_path, issuer_uri="https://idp.example")
    builder.set_clock(FakeClock())
    async with running(builder) as server:
        for _ in range(2):
            response = await server.token(
                {"grant_type": "client_credentials", "scope": "api1"}, headers=basic("m2m", "secret")
            )
            assert response.status_code == 200, response.text
        bad = await server.token({"grant_type": "client_credentials"}, headers=basic("m2m", "wrong"))
        assert bad.status_code in (400, 401)
        for step in server.services.shutdown:
            await step()


async def test_the_cleanup_job_waits_an_interval_runs_and_survives_failures():
    calls: list[str] = []
    sleeps: list[float] = []

    class Flaky:
        async def cleanup_grants(self) -> None:
            calls.append("run")
            if len(calls) == 1:
                raise RuntimeError("database away")

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) > 3:
            raise asyncio.CancelledError

    job = token_cleanup_job(Flaky, OperationalStoreOptions(enable_token_cleanup=True, token_cleanup_interval=42), sleep)
    with pytest.raises(asyncio.CancelledError):
        await job()
    assert sleeps == [42, 42, 42, 42] and calls == ["run", "run", "run"]


def test_the_cleanup_job_is_registered_only_when_enabled(tmp_path):
    def jobs(services):
        """The background jobs besides the back-channel logout retries, which always run."""
        retries = services.backchannel_logout.run_delivery
        assert retries in services.background
        return [job for job in services.background if job != retries]

    config = test_data.test_configuration()
    # the login-throttle and ended-session cleanups always run (issue 16 item 2); token cleanup only when enabled
    always = jobs(create_builder(config, tmp_path).build())
    assert {job.__qualname__ for job in always} == {"periodic_job.<locals>.run"}
    enabled = dataclasses.replace(
        config,
        options=dataclasses.replace(config.options, operational=OperationalStoreOptions(enable_token_cleanup=True)),
    )
    services = create_builder(enabled, tmp_path).build()
    cleanup = [job for job in jobs(services) if job.__qualname__ == "token_cleanup_job.<locals>.run"]
    assert len(cleanup) == 1 and len(jobs(services)) == len(always) + 1
    assert type(services.token_cleanup).__name__ == "SqlTokenCleanupService"
