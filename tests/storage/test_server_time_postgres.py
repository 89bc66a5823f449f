"""The PostgreSQL server's clock as ``SynchronizedClock``'s reference, and the clock of one-shot commands
(docs/scaling.md, "Clocks"); collected in CI's PostgreSQL run."""

from __future__ import annotations

import os
import time

import pytest

from identityserver.clock import SynchronizedClock, SystemClock
from identityserver.configuration.host import command_clock
from identityserver.options import ClockOptions
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.server_time import database_server_time
from tests.storage.conftest import PG_ENV

pytestmark = pytest.mark.postgres


def database(prepared: list[str]) -> Database:
    async def prepare(_: Database) -> None:
        prepared.append("prepare")

    return Database(os.environ[PG_ENV], prepare=prepare)


async def test_the_server_time_is_read_without_the_start_up_step():
    prepared: list[str] = []
    db = database(prepared)
    try:
        before = time.time()
        reading = await database_server_time(db)
        after = time.time()
        assert before - 1 < reading < after + 1  # the database runs on this machine, on its clock
        assert prepared == []  # the clock is read before the step that its time dates
        await db.prepare()
        assert prepared == ["prepare"]
    finally:
        await db.dispose()


async def test_a_host_clock_five_minutes_ahead_follows_the_server():
    db = database([])
    try:
        clock = SynchronizedClock(lambda: database_server_time(db), wall=lambda: time.time() + 300)
        await clock.start()
        assert clock.following and 299 < -clock.offset < 301
        assert abs(clock.timestamp() - time.time()) < 0.5
    finally:
        await db.dispose()


async def test_a_command_keeps_the_servers_clock_unless_told_not_to():
    db = database([])
    try:
        clock = await command_clock(ClockOptions(), db)
        assert isinstance(clock, SynchronizedClock) and not clock.following and abs(clock.offset) < 0.5
        assert isinstance(await command_clock(ClockOptions(follow_database=False), db), SystemClock)
    finally:
        await db.dispose()
