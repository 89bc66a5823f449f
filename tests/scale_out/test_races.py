"""Races across nodes (security.md §3.3 M1, M4): 20 parallel presentations of one authorization code, one
one-time refresh token, one DPoP proof, one client assertion and one approved device code, split over two
``serve`` processes on one PostgreSQL database (with and without Redis), or over the two workers of one
``serve --workers 2``: exactly one wins, and what a code's winner got is refused on both nodes. Also: the login
throttle, the device flow's slow_down and the wrong user codes count what either node saw together."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from urllib.parse import urlencode

import httpx

from identityserver.client.dpop import DPoPKey
from tests.scale_out.cluster import ASSERTION_KEY, ISSUER, WEB_CB, Balancer, cluster, http_client, write_config
from tests.support.browser import Browser, forms, obtain_code, redeem, refresh
from tests.support.client_auth import assertion_form, client_assertion

PARALLEL = 20
TOKEN_URL = f"{ISSUER}/connect/token"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


async def race(balancer: Balancer, send: object) -> list[httpx.Response]:
    """``PARALLEL`` requests at once, every other one to each node (each on a connection of its own)."""
    start = len(balancer.served)
    responses: list[httpx.Response] = await asyncio.gather(*(send() for _ in range(PARALLEL)))  # type: ignore[operator]
    assert sorted(set(balancer.served[start:])) == ["A", "B"]
    return responses


def winners(responses: list[httpx.Response], loser_status: int, loser_error: str) -> int:
    for response in responses:
        if response.status_code != 200:
            assert response.status_code == loser_status, response.text
            assert response.json()["error"] == loser_error, response.text
    return sum(r.status_code == 200 for r in responses)


async def submit_on_each_node(
    http: httpx.AsyncClient, balancer: Balancer, action: str, fields: list[tuple[str, str]]
) -> list[httpx.Response]:
    """One submission of a form on each node in turn, each as the browser that rendered it sent it (with its
    cookies of the moment, so that no answer changes what the next carries); both must sign in (302)."""
    cookie = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    answers = []
    for node in balancer.nodes:
        with balancer.pin(node):
            answers.append(await http.post(action, content=urlencode(fields), headers=headers))
    assert [a.status_code for a in answers] == [302, 302], [(a.status_code, a.text[:200]) for a in answers]
    return answers


async def test_one_code_refresh_token_dpop_proof_and_client_assertion_each_win_once(
    database_url, redis_url, topology, tmp_path
):
    config = write_config(tmp_path / "server.toml", database_url, redis_url)
    with cluster(config, tmp_path, topology=topology) as nodes:
        balancer = Balancer(nodes)
        async with http_client(balancer) as http:
            for scope in ("openid api1 offline_access", "openid api1"):
                grant = await obtain_code(http, "web", WEB_CB, scope)
                responses = await race(balancer, lambda: redeem(http, grant))
                assert winners(responses, 400, "invalid_grant") == 1
                # the losers are replays, on either node: what the winner got is refused on both
                winner = next(r.json() for r in responses if r.status_code == 200)
                for node in balancer.nodes:
                    with balancer.pin(node):
                        answer = await http.get(
                            "/connect/userinfo", headers={"Authorization": f"Bearer {winner['access_token']}"}
                        )
                        assert answer.status_code == 401, answer.text
                        if "refresh_token" in winner:
                            used = await refresh(http, "web", winner["refresh_token"])
                            assert used.status_code == 400 and used.json()["error"] == "invalid_grant", used.text
            # the replays revoked what the code gave (RFC 6749 §4.1.2): a new code for the refresh token race
            fresh = await redeem(http, await obtain_code(http, "web", WEB_CB, "openid api1 offline_access"))
            refresh_token = fresh.json()["refresh_token"]

            responses = await race(balancer, lambda: refresh(http, "web", refresh_token))
            assert winners(responses, 400, "invalid_grant") == 1

            key = DPoPKey.generate()
            form = {"grant_type": "client_credentials"}
            challenge = await http.post(
                TOKEN_URL, auth=("dpop", "secret"), data=form, headers={"DPoP": key.create_proof("POST", TOKEN_URL)}
            )
            proof = key.create_proof("POST", TOKEN_URL, nonce=challenge.headers["dpop-nonce"])
            responses = await race(
                balancer, lambda: http.post(TOKEN_URL, auth=("dpop", "secret"), data=form, headers={"DPoP": proof})
            )
            assert winners(responses, 400, "invalid_dpop_proof") == 1

            now = int(time.time())
            claims = {
                "iss": "m2m.jwt",
                "sub": "m2m.jwt",
                "aud": TOKEN_URL,
                "iat": now,
                "exp": now + 60,
                "jti": uuid.uuid4().hex,
            }
            assertion = client_assertion(ASSERTION_KEY, "ES256", claims, {"kid": "assertion-1"})
            responses = await race(balancer, lambda: http.post(TOKEN_URL, data=assertion_form(assertion)))
            assert winners(responses, 400, "invalid_client") == 1, [r.text for r in responses]


async def test_the_login_throttle_counts_failures_on_every_node(database_url, redis_url, topology, tmp_path):
    config = write_config(tmp_path / "server.toml", database_url, redis_url)  # per_address = 3
    with cluster(config, tmp_path, topology=topology) as nodes:
        balancer = Balancer(nodes)
        async with http_client(balancer) as http:
            browser = Browser(http)
            statuses = []
            for node in (nodes[0], nodes[1], nodes[0], nodes[1]):  # the fourth failure from this address
                with balancer.pin(node):
                    page = await browser.get("/account/login")
                    answer = await browser.submit(page, {"username": "alice", "password": "wrong", "button": "login"})
                statuses.append(answer.status_code)
            assert statuses == [400, 400, 400, 429], statuses
            for node in nodes:  # refused on both nodes, even with the right password
                with balancer.pin(node):
                    page = await browser.get("/account/login")
                    answer = await browser.submit(page, {"username": "alice", "password": "alice", "button": "login"})
                assert answer.status_code == 429, json.dumps([node.name, answer.status_code])


async def test_one_approved_device_code_wins_once(database_url, redis_url, topology, tmp_path):
    config = write_config(tmp_path / "server.toml", database_url, redis_url)
    with cluster(config, tmp_path, topology=topology) as nodes:
        balancer = Balancer(nodes)
        async with http_client(balancer) as http:
            with balancer.pin(nodes[0]):
                started = await http.post(
                    "/connect/deviceauthorization", data={"client_id": "tv", "scope": "openid api1"}
                )
            assert started.status_code == 200, started.text
            device = started.json()
            browser = Browser(http)
            await browser.login(await browser.get("/account/login"), "alice", "alice")
            page = await browser.get(f"/device?{httpx.QueryParams({'userCode': device['user_code']})}")
            assert page.status_code == 200, page.text
            approved = await browser.submit(page, {"button": "yes", "user_code": device["user_code"]})
            assert approved.status_code == 200, approved.text
            await asyncio.sleep(device["interval"] + 0.1)  # no slow_down for the first poll
            form = {"grant_type": DEVICE_GRANT, "device_code": device["device_code"], "client_id": "tv"}
            responses = await race(balancer, lambda: http.post(TOKEN_URL, data=form))
            wins = [r for r in responses if r.status_code == 200]
            assert len(wins) == 1, [r.text for r in responses]
            for response in responses:
                if response.status_code != 200:
                    assert response.json()["error"] in ("invalid_grant", "slow_down"), response.text


async def test_device_slow_down_and_wrong_user_codes_count_on_every_node(database_url, redis_url, topology, tmp_path):
    """security.md M9: a device that polls node A and then, too early, node B is told to slow down; wrong user codes
    typed on either node count toward one limit (``user_code_failures_per_session``, 5 by default)."""
    config = write_config(tmp_path / "server.toml", database_url, redis_url)
    with cluster(config, tmp_path, topology=topology) as nodes:
        balancer = Balancer(nodes)
        async with http_client(balancer) as http:
            started = await http.post("/connect/deviceauthorization", data={"client_id": "tv", "scope": "openid api1"})
            assert started.status_code == 200, started.text
            device = started.json()
            form = {"grant_type": DEVICE_GRANT, "device_code": device["device_code"], "client_id": "tv"}
            polls = []
            for node in nodes:  # well within the interval (1 s): the second poll is early, on the other node
                with balancer.pin(node):
                    polls.append(await http.post(TOKEN_URL, data=form))
            assert [p.json()["error"] for p in polls] == ["authorization_pending", "slow_down"], [p.text for p in polls]

            browser = Browser(http)
            await browser.login(await browser.get("/account/login"), "alice", "alice")
            statuses = []
            for attempt in range(5):
                with balancer.pin(nodes[attempt % 2]):
                    statuses.append((await browser.get(f"/device?userCode=00000000{attempt}")).status_code)
            assert statuses == [400] * 5, statuses
            for node in nodes:  # the right code is refused on both nodes now
                with balancer.pin(node):
                    blocked = await browser.get(f"/device?{httpx.QueryParams({'userCode': device['user_code']})}")
                assert blocked.status_code == 429, json.dumps([node.name, blocked.status_code])


async def test_one_login_form_submitted_on_both_nodes_at_once_opens_one_session(
    database_url, redis_url, topology, tmp_path
):
    """security.md R9 across nodes: a double-clicked login, each submission on another node, is one session."""
    import asyncpg

    config = write_config(tmp_path / "server.toml", database_url, redis_url)  # server-side sessions
    with cluster(config, tmp_path, topology=topology) as nodes:
        balancer = Balancer(nodes)
        async with http_client(balancer) as http:
            page = await Browser(http).get("/account/login")
            form = forms(page.text)[0]
            body = urlencode([*form.fields, ("username", "alice"), ("password", "alice"), ("button", "login")])
            # each submission is sent as the browser sent it: with the anti-forgery cookie, before any session
            cookie = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}

            async def submit() -> httpx.Response:
                return await http.post(form.action, content=body, headers=headers)

            start = len(balancer.served)
            answers = await asyncio.gather(*(submit() for _ in range(3)))  # the throttle allows 3 at once
            assert sorted(set(balancer.served[start:])) == ["A", "B"]
            assert all(a.status_code == 302 for a in answers), [a.status_code for a in answers]
            session_ids = {a.cookies["idsrv.session"] for a in answers}
            assert len(session_ids) == 1, session_ids
            for answer, node in zip(answers, itertools.cycle(nodes)):
                with balancer.pin(node):  # every answer's cookie is that session, on either node
                    grants = await http.get("/grants", headers={"Cookie": f"idsrv={answer.cookies['idsrv']}"})
                assert grants.status_code == 200, (node.name, grants.status_code)
    connection = await asyncpg.connect(database_url, timeout=10)
    try:
        rows = await connection.fetch('SELECT "SessionId" FROM "ServerSideSessions" WHERE "SubjectId" = $1', "alice-1")
    finally:
        await connection.close()
    assert [row["SessionId"] for row in rows] == list(session_ids)


async def test_one_account_creation_form_submitted_on_both_nodes_makes_one_account_and_one_session(
    database_url, redis_url, topology, tmp_path
):
    """security.md R9 across nodes: a double-clicked "Create account", the second submission on the other node
    after the first made the account, is one account and one session (the claim is in the shared ReplayCache)."""
    import asyncpg

    extra = '[options.user_interaction]\ncreate_account_url = "/account/create"\n'
    config = write_config(tmp_path / "server.toml", database_url, redis_url, extra=extra)
    with cluster(config, tmp_path, topology=topology) as nodes:
        balancer = Balancer(nodes)
        async with http_client(balancer) as http:
            with balancer.pin(nodes[0]):
                page = await Browser(http).get("/account/create")
            form = forms(page.text)[0]
            fields = [(k, v) for k, v in form.fields if k not in ("username", "name", "email", "password")]
            fields += [("username", "dave"), ("password", "correct horse"), ("button", "create")]
            answers = await submit_on_each_node(http, balancer, form.action, fields)
            session_ids = {a.cookies["idsrv.session"] for a in answers}
            assert len(session_ids) == 1, session_ids
    connection = await asyncpg.connect(database_url, timeout=10)
    try:
        accounts = await connection.fetch('SELECT "SubjectId" FROM "IdentityServerUsers" WHERE "Username" = $1', "dave")
        assert len(accounts) == 1, accounts
        rows = await connection.fetch(
            'SELECT "SessionId" FROM "ServerSideSessions" WHERE "SubjectId" = $1', accounts[0]["SubjectId"]
        )
    finally:
        await connection.close()
    assert [row["SessionId"] for row in rows] == list(session_ids)


async def test_a_re_authentication_with_cookie_sessions_submitted_on_both_nodes_keeps_one_sid(
    database_url, redis_url, topology, tmp_path
):
    """security.md R9 across nodes, with the session in the cookie: alice, signed in, signs in again, and the form
    goes once to each node, both times with her session's cookie. The first keeps the ``sid`` and ends the cookie
    as superseded (in the shared database); the second, on the other node, answers with the same ``sid``."""
    config = write_config(tmp_path / "server.toml", database_url, redis_url)
    text = config.read_text()
    assert "[options.server_side_sessions]\nenabled = true" in text
    config.write_text(text.replace("[options.server_side_sessions]\nenabled = true", "[options.server_side_sessions]"))
    with cluster(config, tmp_path, topology=topology) as nodes:
        balancer = Balancer(nodes)
        async with http_client(balancer) as http:
            browser = Browser(http)
            with balancer.pin(nodes[0]):
                await browser.login(await browser.get("/account/login"), "alice", "alice")
                signed_in = dict(http.cookies.items())
                page = await browser.get("/account/login")
            assert "idsrv.session" in signed_in
            form = forms(page.text)[0]
            fields = [*form.fields, ("username", "alice"), ("password", "alice"), ("button", "login")]
            answers = await submit_on_each_node(http, balancer, form.action, fields)
            assert {a.cookies["idsrv.session"] for a in answers} == {signed_in["idsrv.session"]}
            for answer, node in itertools.product(answers, nodes):
                with balancer.pin(node):  # every answer's cookie is a live session on either node
                    grants = await http.get("/grants", headers={"Cookie": f"idsrv={answer.cookies['idsrv']}"})
                assert grants.status_code == 200, (node.name, grants.status_code)
            with balancer.pin(nodes[1]):  # the cookie the re-authentication ended is refused on the other node
                ended = await http.get("/grants", headers={"Cookie": f"idsrv={signed_in['idsrv']}"})
            assert ended.status_code == 302, ended.status_code
