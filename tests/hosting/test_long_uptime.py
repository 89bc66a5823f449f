"""security.md L4: a server that has been up for more than a year, its clock advanced in steps of twelve hours
(DuendeArchive/Support#1361: IdentityServer 6.3.10's discovery and JWKS timed out after days). Discovery, JWKS,
token issuance and introspection answer at every step (each bounded by a timeout, so a hang fails the test), the
signing keys rotate on schedule without piling up, the key store is read about once a key-cache period however
long the server runs, and the data-protection key ring's rotations leave the sign-in page working."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Awaitable

import httpx

from identityserver.stores.protocols import SigningKeyStore
from tests.support.browser import Browser
from tests.support.client_auth import form_basic, jwt_parts
from tests.support.clock import FakeClock
from tests.support.keys import CountingKeyStore
from tests.support.server import basic, make_builder, running

DAYS = 400
STEP_HOURS = 12
PER_DAY = 24 // STEP_HOURS
ANSWER_WITHIN = 10.0
"""Seconds any one request may take before the test calls it hung."""


async def answered(request: Awaitable[httpx.Response]) -> httpx.Response:
    response = await asyncio.wait_for(request, ANSWER_WITHIN)
    assert response.status_code == 200, response.text
    return response


async def test_discovery_jwks_and_tokens_answer_on_every_day_of_more_than_a_year():
    clock, store = FakeClock(), CountingKeyStore()
    builder = make_builder(clock=clock)
    builder.add(SigningKeyStore, store)
    async with running(builder) as server:
        http = server.client
        jwks_kids: list[tuple[str, ...]] = []
        jwks_bodies: set[bytes] = set()
        signing_kids: list[str] = []
        reads_by_day: Counter[int] = Counter()
        for step in range(DAYS * PER_DAY):
            clock.advance(hours=STEP_HOURS)
            before = store.loads
            discovery = await answered(http.get("/.well-known/openid-configuration"))
            assert discovery.json()["jwks_uri"].endswith("/.well-known/openid-configuration/jwks")
            jwks = await answered(http.get("/.well-known/openid-configuration/jwks"))
            kids = tuple(key["kid"] for key in jwks.json()["keys"])
            jwks_kids.append(kids)
            jwks_bodies.add(jwks.content)
            issued = await answered(
                server.token({"grant_type": "client_credentials", "scope": "api1"}, headers=basic("m2m", "secret"))
            )
            token = issued.json()["access_token"]
            kid = jwt_parts(token)[0]["kid"]
            assert kid in kids, (step, kid, kids)  # never signed by a key the JWKS does not publish
            signing_kids.append(kid)
            introspected = await answered(
                http.post("/connect/introspect", data={"token": token}, headers=form_basic("urn:api1", "api1-secret"))
            )
            assert introspected.json()["active"] is True, step
            reads_by_day[step // PER_DAY] += store.loads - before
            if step % (100 * PER_DAY) == 0:
                browser = Browser(http)
                signed_in = await browser.login(await browser.get("/account/login"), "alice", "alice")
                assert signed_in.status_code in (200, 302), signed_in.text[:300]
                assert any(cookie.name.startswith("idsrv") for cookie in http.cookies.jar), step
                http.cookies.clear()

    # a key signs until it is 90 days old (rotation_interval), and its successor is created 14 days before
    # (propagation_time): the first key signs 90 days, every later one 76, as in IdentityServer
    changes = [i / PER_DAY for i in range(1, len(signing_kids)) if signing_kids[i] != signing_kids[i - 1]]
    assert 89.5 <= changes[0] <= 90, changes
    assert all(76 <= b - a <= 77 for a, b in itertools.pairwise(changes)), changes
    assert len(changes) == 5, changes
    # the JWKS never lists more than the two keys of a handover
    assert max(len(kids) for kids in jwks_kids) == 2
    # the JWKS answer is made once per key set, not once per request
    assert len(jwks_bodies) == len(set(jwks_kids))
    # the store is read about once a day (key_cache_duration), in the last hundred days as in the first
    first, last = (sum(reads_by_day[d] for d in days) for days in (range(100), range(DAYS - 100, DAYS)))
    assert 90 <= first <= 110 and 90 <= last <= 110, (first, last)
    assert max(reads_by_day.values()) <= 3, reads_by_day.most_common(3)
