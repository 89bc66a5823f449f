"""Review of the verification page's wrong-code throttle (RFC 8628 §5.1): the check, the lookup and the record
of a failure were three steps, so parallel guesses from one session all passed the check before the first failure
was counted; user codes could be guessed far beyond ``user_code_failures_per_session``."""

from __future__ import annotations

import asyncio

from tests.device_flow.support import authorize_device, device_server, signed_in_browser

PARALLEL = 30


async def test_parallel_wrong_codes_from_one_session_are_capped_at_the_session_limit() -> None:
    async with device_server() as (server, _):
        device = await authorize_device(server, scope="api1")
        await signed_in_browser(server)
        guesses = [f"/device?userCode={100000000 + n}" for n in range(PARALLEL)]
        answers = await asyncio.gather(*(server.client.get(path) for path in guesses))
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [400] * 5 + [429] * (PARALLEL - 5), statuses
        # the real code is refused too until the window passes: the guesses were counted
        assert (await server.client.get(f"/device?userCode={device['user_code']}")).status_code == 429
        server.clock.advance(301)  # the failures age out of the window
        fresh = await authorize_device(server, scope="api1")
        assert (await server.client.get(f"/device?userCode={fresh['user_code']}")).status_code == 200


async def test_parallel_wrong_codes_from_one_address_are_capped_at_the_address_limit() -> None:
    options = "[options.device_flow]\nuser_code_failures_per_address = 3\nuser_code_failures_per_session = 100\n"
    async with device_server(options) as (server, _):
        await signed_in_browser(server)
        guesses = [f"/device?userCode={200000000 + n}" for n in range(PARALLEL)]
        answers = await asyncio.gather(*(server.client.get(path) for path in guesses))
        assert sorted(a.status_code for a in answers) == [400] * 3 + [429] * (PARALLEL - 3)
