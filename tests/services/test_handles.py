"""``DefaultHandleGenerationService``: 256 random bits, led by the issue time unless
``options.persisted_grants.time_ordered_handles`` is off (issue 15); and over real HTTP, tokens of either form stay
valid whatever the setting, and a time-ordered token's stored key starts with its issue time."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import httpx

from identityserver.crypto.hashing import hashed_grant_key
from identityserver.services.handles import DefaultHandleGenerationService
from tests.support.clock import FakeClock
from tests.support.data import REFERENCE_TOML
from tests.support.process import serve
from tests.support.reference_tokens import is_active, issue

TIME_ORDERED = re.compile(r"[0-9A-F]{12}[0-9A-F]{64}-2")
IDENTITYSERVER_FORM = re.compile(r"[0-9A-F]{64}-1")


def test_a_time_ordered_handle_is_its_issue_time_in_milliseconds_then_256_random_bits() -> None:
    clock = FakeClock(datetime(2026, 12, 6, 9, 30, 15, 123_000, tzinfo=UTC))
    handles = [DefaultHandleGenerationService(clock).generate_handle() for _ in range(200)]
    assert all(TIME_ORDERED.fullmatch(h) for h in handles), handles[:3]
    assert {int(h[:12], 16) for h in handles} == {int(clock.timestamp() * 1000)}
    assert len(set(handles)) == len(handles)
    assert len({h[12:20] for h in handles}) == len(handles)  # the random digits share no prefix


def test_handles_issued_later_have_keys_that_sort_later() -> None:
    clock = FakeClock()
    generator = DefaultHandleGenerationService(clock)
    keys = []
    for _ in range(100):
        keys.append(hashed_grant_key(generator.generate_handle(), "refresh_token"))
        clock.advance(0.001)
    assert keys == sorted(keys)
    assert len({key[:12] for key in keys}) == len(keys)


def test_without_time_ordering_handles_take_identityserver_s_own_form() -> None:
    handles = [DefaultHandleGenerationService(FakeClock(), time_ordered=False).generate_handle() for _ in range(50)]
    assert all(IDENTITYSERVER_FORM.fullmatch(h) for h in handles)
    assert all(len(hashed_grant_key(h, "reference_token")) == 64 for h in handles)  # keyed as IdentityServer keys it
    assert len({h[:8] for h in handles}) == len(handles)


async def issue_one(base: str) -> str:
    async with httpx.AsyncClient(base_url=base) as client:
        return await issue(client)


async def all_active(base: str, *tokens: str) -> bool:
    async with httpx.AsyncClient(base_url=base) as client:
        return all([await is_active(client, token) for token in tokens])


def test_tokens_of_either_form_stay_valid_when_the_setting_changes(tmp_path: Path) -> None:
    state = tmp_path / "state"
    config = tmp_path / "identityserver.toml"
    config.write_text(REFERENCE_TOML + "\n[options.persisted_grants]\ntime_ordered_handles = false\n")
    with serve(config, state) as base:
        plain = asyncio.run(issue_one(base))
    config.write_text(REFERENCE_TOML)
    with serve(config, state) as base:
        ordered = asyncio.run(issue_one(base))
        assert asyncio.run(all_active(base, plain, ordered))
    config.write_text(REFERENCE_TOML + "\n[options.persisted_grants]\ntime_ordered_handles = false\n")
    with serve(config, state) as base:
        assert asyncio.run(all_active(base, plain, ordered))
    assert IDENTITYSERVER_FORM.fullmatch(plain) and TIME_ORDERED.fullmatch(ordered)
    with contextlib.closing(sqlite3.connect(state / "identityserver.db")) as database:
        keys = {key for (key,) in database.execute("SELECT Key FROM PersistedGrants WHERE Type = 'reference_token'")}
    assert keys == {hashed_grant_key(plain, "reference_token"), hashed_grant_key(ordered, "reference_token")}
    stored = "".join(keys)
    assert ordered[12:-2] not in stored and plain[:-2] not in stored  # the random digits never reach the store
    assert any(key.startswith(ordered[:12]) and len(key) == 76 for key in keys)
