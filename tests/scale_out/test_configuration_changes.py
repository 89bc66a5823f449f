"""Configuration changed through the admin command line reaches every node: within the configured cache time
(``options.caching``) with PostgreSQL alone, and at once with Redis, whose invalidation channel every node
listens to (the Redis variant caches for five minutes, so only the message can explain the change)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.scale_out.cluster import Balancer, Node, cluster, http_client, write_config

SHORT_CACHE = 3


def admin(config: Path, *args: str) -> Any:
    result = subprocess.run(
        [sys.executable, "-m", "identityserver", *args, "--config", str(config), "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr, result.stderr
    return json.loads(result.stdout)


async def status_on(http: httpx.AsyncClient, balancer: Balancer, node: Node, secret: str) -> int:
    with balancer.pin(node):
        response = await http.post(
            "/connect/token", auth=("machine", secret), data={"grant_type": "client_credentials"}
        )
    return response.status_code


async def seconds_until(
    http: httpx.AsyncClient, balancer: Balancer, nodes: list[Node], secret: str, accepted: bool
) -> float:
    """How long until every node accepts (or refuses) the secret (each node checked until it does)."""
    start = time.monotonic()
    for node in nodes:
        while (await status_on(http, balancer, node, secret) == 200) != accepted:
            assert time.monotonic() - start < 30, f"{node.name} still answers otherwise"
            await asyncio.sleep(0.05)
    return time.monotonic() - start


async def test_a_removed_secret_and_a_disabled_client_stop_working_on_every_node(database_url, redis_url, tmp_path):
    cache = 300 if redis_url else SHORT_CACHE
    bound = 1.5 if redis_url else SHORT_CACHE + 1.5  # "at once" with Redis; within the cache time without
    config = write_config(tmp_path / "server.toml", database_url, redis_url, cache_seconds=cache)
    with cluster(config, tmp_path) as nodes:
        balancer = Balancer(nodes)
        async with http_client(balancer) as http:
            for node in nodes:  # both nodes have the client cached
                assert await status_on(http, balancer, node, "secret") == 200

            added = admin(config, "clients", "secrets", "add", "machine", "--description", "rotated")
            assert await seconds_until(http, balancer, nodes, added["secret"], True) < bound

            admin(config, "clients", "secrets", "remove", "machine", "--index", "1")
            assert await seconds_until(http, balancer, nodes, "secret", False) < bound
            for node in nodes:
                assert await status_on(http, balancer, node, added["secret"]) == 200

            admin(config, "clients", "disable", "machine")
            assert await seconds_until(http, balancer, nodes, added["secret"], False) < bound
            with balancer.pin(nodes[0]):
                refused = await http.post(
                    "/connect/token", auth=("machine", added["secret"]), data={"grant_type": "client_credentials"}
                )
            assert refused.status_code == 401 and refused.json()["error"] == "invalid_client", refused.text

            admin(config, "clients", "enable", "machine")
            assert await seconds_until(http, balancer, nodes, added["secret"], True) < bound

            # `config import` of the file puts the original secret back (and announces everything with Redis)
            imported = subprocess.run(
                [sys.executable, "-m", "identityserver", "config", "import", str(config)],
                capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert imported.returncode == 0 and "warning" not in imported.stderr, imported.stderr
            assert await seconds_until(http, balancer, nodes, "secret", True) < bound
