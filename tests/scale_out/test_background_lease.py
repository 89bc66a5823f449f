"""Periodic work runs once per deployment: each pass of token cleanup and of the login-throttle cleanup is
claimed by exactly one of the two nodes (a lease per job and time slot in the shared replay cache)."""

from __future__ import annotations

import asyncio
import re

from tests.scale_out.cluster import cluster, write_config

FAST = """
[options.operational]
enable_token_cleanup = true
token_cleanup_interval = 1
"""
PASS = re.compile(r"(token cleanup|login throttle cleanup): this process runs the pass of slot (\d+)")


async def test_each_pass_of_a_periodic_job_runs_on_one_node_only(database_url, redis_url, tmp_path):
    config = write_config(tmp_path / "server.toml", database_url, redis_url, extra=FAST, throttle_cleanup=1)
    with cluster(config, tmp_path, extra_args=["--log-level", "info"]) as nodes:
        await asyncio.sleep(6)
        logs = {node.name: PASS.findall(node.output()) for node in nodes}
    for job in ("token cleanup", "login throttle cleanup"):
        runs = {name: [int(slot) for j, slot in found if j == job] for name, found in logs.items()}
        slots = runs["A"] + runs["B"]
        assert len(slots) == len(set(slots)), f"{job}: a slot ran twice: {runs}"
        assert len(slots) >= 3, f"{job}: too few passes: {runs}"
