"""Signing-key rotation across nodes: a key created by ``identityserver keys rotate`` on the shared database is
published by every node's JWKS before any node signs with it, and no token is ever signed by a key that another
node does not publish (propagation time shortened to seconds; the key caches are capped at half of it)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.scale_out.cluster import Balancer, cluster, http_client, start_node, stop_node, write_config
from tests.support.client_auth import jwt_parts

KEYS = """
[options.key_management]
propagation_time = 5
rotation_interval = 20
retention_duration = 120
key_cache_duration = 2
"""


async def test_a_rotated_key_is_announced_by_every_node_before_any_node_signs_with_it(
    database_url, redis_url, tmp_path
):
    config = write_config(tmp_path / "server.toml", database_url, redis_url, extra=KEYS)
    with cluster(config, tmp_path) as nodes:
        balancer = Balancer(nodes)
        jwks_seen: list[tuple[float, str, set[str]]] = []  # (answered at, node, kids)
        signed: list[tuple[float, str, str]] = []  # (requested at, node, kid)
        async with http_client(balancer) as http:

            async def observe() -> None:
                for node in nodes:
                    with balancer.pin(node):
                        sent = time.monotonic()
                        token = await http.post(
                            "/connect/token", auth=("machine", "secret"), data={"grant_type": "client_credentials"}
                        )
                        assert token.status_code == 200, token.text
                        signed.append((sent, node.name, jwt_parts(token.json()["access_token"])[0]["kid"]))
                        jwks = await http.get("/.well-known/openid-configuration/jwks")
                        assert jwks.status_code == 200
                        jwks_seen.append((time.monotonic(), node.name, {k["kid"] for k in jwks.json()["keys"]}))

            await observe()
            first_kid = signed[0][2]
            rotated = subprocess.run(
                [sys.executable, "-m", "identityserver", "keys", "rotate", "--config", str(config), "--json"],
                capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert rotated.returncode == 0, rotated.stderr
            new_kid = json.loads(rotated.stdout)["created"][0]["id"]
            assert new_kid != first_kid
            deadline = time.monotonic() + 45
            while time.monotonic() < deadline:
                await observe()
                if {n for _, n, kid in signed if kid == new_kid} == {"A", "B"}:
                    break
            await observe()

    assert {n for _, n, kid in signed if kid == new_kid} == {"A", "B"}, "the new key never signed on both nodes"
    for kid in {kid for _, _, kid in signed}:
        first_use = min(t for t, _, k in signed if k == kid)
        for node in ("A", "B"):
            before = [kids for t, n, kids in jwks_seen if n == node and t < first_use]
            after = [kids for t, n, kids in jwks_seen if n == node and t >= first_use]
            if kid != first_kid:  # the start-up key signed from the first request on
                assert before and kid in before[-1], f"{node} did not publish {kid} before it first signed"
            assert all(kid in kids for kids in after), f"{node} stopped publishing {kid} while it was in use"
    for sent, node, kid in signed:  # every token's key is published by every node at the time
        for other in ("A", "B"):
            latest = [kids for t, n, kids in jwks_seen if n == other and t <= sent]
            assert not latest or kid in latest[-1] or kid == first_kid, (node, other, kid)


@pytest.mark.postgres
def test_nodes_started_together_on_an_empty_database_agree_on_one_key(tmp_path):
    """security.md M5: three nodes started at once on an empty database (no tables, no keys): after start-up they
    sign with the same key and publish the same JWKS, and the database holds that one key. Three rounds, each on a
    fresh database."""
    from tests.storage.conftest import fresh_pg_database

    for round_ in range(3):
        with fresh_pg_database() as url:
            root = tmp_path / f"round-{round_}"
            root.mkdir()
            config = write_config(root / "server.toml", url, None)
            with ThreadPoolExecutor(3) as pool:
                starting = [pool.submit(start_node, f"n{i}", config, root / f"state-n{i}") for i in range(3)]
                nodes = [future.result() for future in starting]
            try:
                kids, published = set(), []
                for node in nodes:
                    token = httpx.post(
                        f"{node.url}/connect/token",
                        auth=("machine", "secret"),
                        data={"grant_type": "client_credentials"},
                        headers={"Host": "idp.test"},
                        timeout=30,
                    )
                    assert token.status_code == 200, token.text
                    kids.add(jwt_parts(token.json()["access_token"])[0]["kid"])
                    jwks = httpx.get(f"{node.url}/.well-known/openid-configuration/jwks", headers={"Host": "idp.test"})
                    published.append(jwks.content)
                listed = subprocess.run(
                    [sys.executable, "-m", "identityserver", "keys", "list", "--config", str(config), "--json"],
                    capture_output=True, text=True, timeout=120, check=False,
                )  # fmt: skip
                assert listed.returncode == 0, listed.stderr
                stored = json.loads(listed.stdout)["keys"]
            finally:
                for node in nodes:
                    stop_node(node)
            assert len(kids) == 1, f"round {round_}: the nodes signed with {kids}"
            assert published[0] == published[1] == published[2], f"round {round_}: the nodes' JWKS differ"
            assert [(k["id"], k["state"]) for k in stored] == [(kids.pop(), "signing")], stored
