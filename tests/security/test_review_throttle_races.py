"""Review of issue 16's login throttle: parallel guesses from one address must not all pass the check before the
first failure is recorded (check-then-record is a race; RFC 6749 §10.10, RFC 9700 §4.x brute force). Counting the
attempt before checking caps them at ``per_address`` however many arrive at once."""

from __future__ import annotations

import asyncio

from identityserver.models.grants import PersistedGrantFilter
from identityserver.options import LoginThrottleOptions
from identityserver.services.login_throttle import LOGIN_FAILURE
from tests.security.support import server_with
from tests.security.test_login_throttle_attacks import ATTACKERS, VICTIM, login, password_grant

FAST = LoginThrottleOptions(delay=0.05, max_delay=0.2, cleanup_interval=1)
PARALLEL = 20


async def test_parallel_password_grant_guesses_from_one_address_are_capped_at_per_address():
    async with server_with(login_throttle=FAST) as server:
        answers = await asyncio.gather(*(password_grant(server, ATTACKERS[0], "guess") for _ in range(PARALLEL)))
        checked = [a for a in answers if "too many" not in a.json().get("error_description", "")]
        assert len(checked) == FAST.per_address, [a.json() for a in answers]
        assert all(a.status_code == 400 for a in answers)
        # another address still signs in with the right password
        granted = await password_grant(server, VICTIM, "alice")
        assert granted.status_code == 200 and "access_token" in granted.json()


async def test_parallel_login_page_guesses_from_one_address_are_capped_at_per_address():
    async with server_with(login_throttle=FAST) as server:
        answers = await asyncio.gather(*(login(server, ATTACKERS[1], "guess") for _ in range(PARALLEL)))
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [400] * FAST.per_address + [429] * (PARALLEL - FAST.per_address)
        store = server.services.login_throttle.grants  # type: ignore[attr-defined]
        rows = await store.get_all(PersistedGrantFilter(type=LOGIN_FAILURE))
        assert len(rows) == FAST.per_address  # refused attempts are not counted as guesses
        assert (await login(server, VICTIM, "alice")).status_code == 302


async def test_a_success_after_parallel_failures_clears_only_that_address():
    async with server_with(login_throttle=FAST) as server:
        await asyncio.gather(*(login(server, ATTACKERS[2], "guess") for _ in range(3)))
        assert (await login(server, ATTACKERS[2], "alice")).status_code == 302
        store = server.services.login_throttle.grants  # type: ignore[attr-defined]
        assert await store.get_all(PersistedGrantFilter(type=LOGIN_FAILURE)) == []
        for _ in range(FAST.per_address):
            assert (await login(server, ATTACKERS[2], "guess")).status_code == 400
        assert (await login(server, ATTACKERS[2], "alice")).status_code == 429
