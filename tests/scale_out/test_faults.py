"""Faults under load: one node killed with SIGKILL (the other keeps serving; afterwards no committed grant is
missing and no one-time artefact was redeemed twice), PostgreSQL restarted (requests fail cleanly while it is
down, with no stack trace, and succeed again afterwards without restarting the servers), and Redis unreachable
(what does not need it is served; one-time checks kept in Redis, such as DPoP proof jtis and consent answers,
are refused with a JSON error)."""

from __future__ import annotations

import asyncio
import subprocess
import time

import httpx
import pytest

from identityserver.client.dpop import DPoPKey
from tests.scale_out.cluster import ISSUER, WEB_CB, Balancer, cluster, http_client, write_config
from tests.support.browser import Browser, code_request, complete_authorize, obtain_code, redeem, refresh
from tests.support.process import free_port

WORKERS = 6
IN_FLIGHT_ERRORS = (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError, httpx.ConnectError)


class Ledger:
    """What the load saw: reference tokens whose issue was answered 200, refresh tokens used (answered 200),
    the newest refresh token of each chain, and the chains whose last request was cut off by the kill."""

    def __init__(self) -> None:
        self.reference_tokens: list[str] = []
        self.used: list[str] = []
        self.latest: dict[int, str] = {}
        self.unknown: set[int] = set()
        self.statuses: list[int] = []


async def refresh_chain(http: httpx.AsyncClient, ledger: Ledger, chain: int, stop: asyncio.Event) -> None:
    """Rotate one refresh token again and again, each request to the next node."""
    while not stop.is_set():
        current = ledger.latest[chain]
        try:
            response = await refresh(http, "web", current)
        except IN_FLIGHT_ERRORS:
            ledger.unknown.add(chain)  # cut off by the kill: the token may or may not have been used
            return
        ledger.statuses.append(response.status_code)
        assert response.status_code == 200, response.text
        ledger.used.append(current)
        ledger.latest[chain] = response.json()["refresh_token"]


async def issue_reference_tokens(http: httpx.AsyncClient, ledger: Ledger, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            response = await http.post(
                "/connect/token", auth=("m2m", "secret"), data={"grant_type": "client_credentials"}
            )
        except IN_FLIGHT_ERRORS:
            continue
        ledger.statuses.append(response.status_code)
        assert response.status_code == 200, response.text
        ledger.reference_tokens.append(response.json()["access_token"])


async def test_a_node_killed_under_load_loses_no_committed_grant_and_redeems_nothing_twice(
    database_url, redis_url, tmp_path
):
    config = write_config(tmp_path / "server.toml", database_url, redis_url)
    with cluster(config, tmp_path) as nodes:
        a, b = nodes
        balancer = Balancer(nodes)
        ledger = Ledger()
        async with http_client(balancer) as http:
            for chain in range(WORKERS // 2):
                tokens = await redeem(http, await obtain_code(http, "web", WEB_CB, "openid api1 offline_access"))
                ledger.latest[chain] = tokens.json()["refresh_token"]
            stop = asyncio.Event()
            load = [asyncio.ensure_future(refresh_chain(http, ledger, c, stop)) for c in range(WORKERS // 2)]
            load += [asyncio.ensure_future(issue_reference_tokens(http, ledger, stop)) for _ in range(WORKERS // 2)]
            await asyncio.sleep(2)
            before = len(ledger.statuses)
            a.kill()
            killed_at = len(ledger.statuses)
            await asyncio.sleep(3)  # B alone carries the load
            stop.set()
            await asyncio.gather(*load)
            after_kill = ledger.statuses[killed_at:]
            assert before > 20 and len(after_kill) > 20, (before, len(after_kill))
            assert set(after_kill) == {200}

            # every reference token whose issue was answered is still known (introspected on the survivor)
            with balancer.pin(b):
                for token in ledger.reference_tokens:
                    response = await http.post(
                        "/connect/introspect", auth=("urn:api1", "api-secret"), data={"token": token}
                    )
                    assert response.status_code == 200 and response.json()["active"], token
                # the newest refresh token of each chain still works; every used one is refused (used once)
                for chain, token in ledger.latest.items():
                    if chain not in ledger.unknown:
                        assert (await refresh(http, "web", token)).status_code == 200
                # a chain cut off by the kill sent its last token and lost the answer (security.md F10): retried, it
                # is either unused (200) or was rotated by the dead node (invalid_grant), never a server error;
                # retried again, it is refused whatever happened before
                for chain in ledger.unknown:
                    retried = await refresh(http, "web", ledger.latest[chain])
                    assert retried.status_code in (200, 400), retried.text
                    assert retried.status_code == 200 or retried.json()["error"] == "invalid_grant", retried.text
                    again = await refresh(http, "web", ledger.latest[chain])
                    assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text
                for token in ledger.used:
                    replay = await refresh(http, "web", token)
                    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant", replay.text
        assert "Traceback" not in b.output()


def restart_postgresql(down_for: float = 1.0) -> None:
    """Stop the cluster of this machine (Debian ``pg_ctlcluster``), keep it down ``down_for`` seconds (so that
    requests certainly meet it down), start it again."""
    for action in ("stop", "start"):
        done = subprocess.run(["pg_ctlcluster", "15", "main", action], capture_output=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        if action == "stop":
            time.sleep(down_for)


@pytest.mark.parametrize("redis_url", [pytest.param(None, marks=pytest.mark.postgres, id="postgres")])
async def test_requests_fail_cleanly_while_postgresql_restarts_and_succeed_afterwards(
    database_url, redis_url, tmp_path
):
    config = write_config(tmp_path / "server.toml", database_url, redis_url)
    with cluster(config, tmp_path) as nodes:
        balancer = Balancer(nodes)
        answers: list[tuple[float, int, str]] = []
        stop = asyncio.Event()
        async with http_client(balancer) as http:

            async def load() -> None:
                while not stop.is_set():
                    response = await http.post(
                        "/connect/token", auth=("m2m", "secret"), data={"grant_type": "client_credentials"}
                    )
                    answers.append((time.monotonic(), response.status_code, response.text))
                    if response.status_code != 200:
                        await asyncio.sleep(0.05)

            tasks = [asyncio.ensure_future(load()) for _ in range(4)]
            await asyncio.sleep(1)
            await asyncio.to_thread(restart_postgresql)
            restarted = time.monotonic()
            await asyncio.sleep(3)
            stop.set()
            await asyncio.gather(*tasks)

            failures = [(status, text) for _, status, text in answers if status != 200]
            print(f"{len(answers)} answers, {len(failures)} failures: {sorted({s for s, _ in failures})}")
            assert failures, "no request met PostgreSQL down"
            for status, text in failures:
                assert status in (500, 503), (status, text)
                assert "Traceback" not in text and "sqlalchemy" not in text.lower() and "asyncpg" not in text.lower()
                assert httpx.Response(status, content=text).json()["error"], text
            # recovered without a restart of the servers: the last second is all 200 on both nodes
            settled = [status for at, status, _ in answers if at > restarted + 2]
            assert settled and set(settled) == {200}, settled[-20:]
            for node in nodes:
                with balancer.pin(node):
                    response = await http.post(
                        "/connect/token", auth=("m2m", "secret"), data={"grant_type": "client_credentials"}
                    )
                assert response.status_code == 200, response.text
                assert node.process.poll() is None


@pytest.mark.parametrize("redis_url", [pytest.param(None, marks=pytest.mark.postgres, id="postgres")])
async def test_with_redis_unreachable_nodes_serve_what_does_not_need_it_and_fail_closed_on_one_time_checks(
    database_url, redis_url, tmp_path
):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    config = write_config(tmp_path / "server.toml", database_url, dead_redis)
    with cluster(config, tmp_path) as nodes:
        balancer = Balancer(nodes)
        async with http_client(balancer) as http:
            for _ in nodes:
                issued = await http.post(
                    "/connect/token", auth=("machine", "secret"), data={"grant_type": "client_credentials"}
                )
                assert issued.status_code == 200, issued.text
            # the consent answer is one-time too (its record would be in Redis): refused cleanly, nothing issued
            final = await complete_authorize(Browser(http), code_request("web", WEB_CB, "openid api1")[0])
            assert final.status_code == 500 and final.json() == {"error": "server_error"}, final.text

            # a DPoP proof's jti cannot be recorded: refused (never accepted unrecorded), as a clean JSON error
            key, url = DPoPKey.generate(), f"{ISSUER}/connect/token"
            form = {"grant_type": "client_credentials"}
            challenge = await http.post(
                url, auth=("dpop", "secret"), data=form, headers={"DPoP": key.create_proof("POST", url)}
            )
            proof = key.create_proof("POST", url, nonce=challenge.headers["dpop-nonce"])
            refused = await http.post(url, auth=("dpop", "secret"), data=form, headers={"DPoP": proof})
            assert refused.status_code == 500 and refused.json() == {"error": "server_error"}, refused.text

            ready = await http.get("/health/ready")
            assert ready.status_code == 503 and ready.json()["checks"]["database"] == "ok"
            assert ready.json()["checks"]["redis"].startswith("unreachable")
        for node in nodes:
            assert node.process.poll() is None
