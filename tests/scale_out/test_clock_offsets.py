"""security.md F8: one node's host clock five minutes ahead of or behind the others' (libfaketime). Every node
holds its time to the PostgreSQL server's (``[options.clock]``, docs/scaling.md "Clocks"), so what one node
stamps (codes, DPoP nonces, device polls, keys, tokens) means the same on the other; the control run, with
``follow_database = false``, shows what each node's own clock did instead."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.scale_out.cluster import (
    WEB_CB,
    Balancer,
    Node,
    clock_offset_environment,
    cluster,
    http_client,
    write_config,
)
from tests.scale_out.test_flows import alternate_every_step, nonce_of_a_presented_to_b
from tests.support.browser import obtain_code, redeem
from tests.support.client_auth import jwt_parts

FIVE_MINUTES = 300
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
OFFSETS = [pytest.param(FIVE_MINUTES, id="ahead"), pytest.param(-FIVE_MINUTES, id="behind")]


def followed_offset(log: str) -> float | None:
    """The offset a node logged when it began to follow the database's time, if it did."""
    found = re.search(r"this host's clock is ([+-]\d+\.\d+) s off the database server's: following", log)
    return float(found.group(1)) if found else None


@pytest.mark.parametrize("offset", OFFSETS)
async def test_every_flow_alternates_between_nodes_five_minutes_apart(database_url, redis_url, tmp_path, offset):
    await alternate_every_step(database_url, redis_url, "nodes", tmp_path, clock_offsets=(0, offset))
    assert followed_offset((tmp_path / "A.log").read_text()) is None
    followed = followed_offset((tmp_path / "B.log").read_text())
    assert followed is not None and abs(followed - offset) < 1, followed


async def poll(http: httpx.AsyncClient, balancer: Balancer, node: Node, device_code: str) -> str:
    with balancer.pin(node):
        answer = await http.post(
            "/connect/token", data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": "tv"}
        )
    assert answer.status_code == 400, answer.text
    error: str = answer.json()["error"]
    return error


async def nonce_of_one_node_on_the_other(http: httpx.AsyncClient, balancer: Balancer, a: Node, b: Node) -> str:
    """A DPoP nonce issued by ``a`` presented to ``b``: ``"accepted"`` or ``b``'s error description."""
    answer = await nonce_of_a_presented_to_b(http, balancer, a, b)
    if answer.status_code == 200:
        return "accepted"
    description: str = answer.json()["error_description"]
    return description


async def tokens_and_device_polls(nodes: list[Node]) -> tuple[list[str], list[dict[str, object]], list[str]]:
    """A code and a DPoP nonce from the first node presented to the second, and the other way round; a
    client_credentials token from each node; a device code started on the first node, polled on the second, then
    on the first, each after the interval."""
    a, b = nodes
    balancer = Balancer(nodes)
    async with http_client(balancer) as http:
        with balancer.pin(a):
            grant = await obtain_code(http, "web", WEB_CB, "openid api1")
        with balancer.pin(b):
            redeemed = await redeem(http, grant)
        outcomes = ["redeemed" if redeemed.status_code == 200 else redeemed.json()["error_description"]]
        outcomes.append(await nonce_of_one_node_on_the_other(http, balancer, a, b))
        outcomes.append(await nonce_of_one_node_on_the_other(http, balancer, b, a))
        claims = []
        for node in nodes:
            with balancer.pin(node):
                token = await http.post(
                    "/connect/token", auth=("machine", "secret"), data={"grant_type": "client_credentials"}
                )
            assert token.status_code == 200, token.text
            header, payload = jwt_parts(token.json()["access_token"])[:2]
            claims.append({"kid": header["kid"], "iat": payload["iat"], "node": node.name})
        with balancer.pin(a):
            started = await http.post("/connect/deviceauthorization", data={"client_id": "tv", "scope": "openid"})
        assert started.status_code == 200, started.text
        device = started.json()
        polls = []
        for node in (b, a):
            await asyncio.sleep(device["interval"] + 0.2)
            polls.append(await poll(http, balancer, node, device["device_code"]))
    return outcomes, claims, polls


@pytest.mark.parametrize("offset", OFFSETS)
async def test_the_node_whose_clock_is_off_creates_the_key_and_stamps_codes_tokens_and_polls_on_time(
    database_url, tmp_path, offset
):
    """The node five minutes off starts first on an empty database: the signing key it creates is dated by the
    database's time, both nodes sign with it and publish the same JWKS, their tokens' ``iat`` is the true time, a
    code it issues is redeemed on the other node, each takes the other's DPoP nonces, and a device polling both
    at its interval is never told to slow down."""
    config = write_config(tmp_path / "server.toml", database_url, None)
    with cluster(config, tmp_path, clock_offsets=(offset, 0)) as nodes:
        outcomes, claims, polls = await tokens_and_device_polls(nodes)
        jwks = []
        for node in nodes:
            async with httpx.AsyncClient(base_url=node.url, headers={"host": "idp.test"}) as http:
                jwks.append((await http.get("/.well-known/openid-configuration/jwks")).json())
    assert outcomes == ["redeemed", "accepted", "accepted"]
    assert claims[0]["kid"] == claims[1]["kid"]
    assert jwks[0] == jwks[1] and [k["kid"] for k in jwks[0]["keys"]] == [claims[0]["kid"]]
    for claim in claims:
        assert abs(float(str(claim["iat"])) - time.time()) < 30, claim
    assert polls == ["authorization_pending", "authorization_pending"]
    listed = subprocess.run(
        [sys.executable, "-m", "identityserver", "keys", "list", "--config", str(config), "--json"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    created = [datetime.fromisoformat(key["created"]).timestamp() for key in json.loads(listed.stdout)["keys"]]
    assert len(created) == 1 and abs(created[0] - time.time()) < 60, created


async def test_without_following_the_database_a_node_five_minutes_ahead_refuses_what_the_other_issues(
    database_url, tmp_path
):
    """The control: each node on its host's clock (``follow_database = false``). A code of the node on time has
    expired on the node ahead, and so has a device code, which the node on time then tells to slow down; neither
    node takes the other's DPoP nonces; the tokens of the node ahead are dated five minutes in the future."""
    config = write_config(
        tmp_path / "server.toml", database_url, None, extra="[options.clock]\nfollow_database = false\n"
    )
    with cluster(config, tmp_path, clock_offsets=(0, FIVE_MINUTES)) as nodes:
        outcomes, claims, polls = await tokens_and_device_polls(nodes)
    # the node ahead finds the other's nonce a minute stale; the other finds the ahead node's from the future
    assert outcomes == ["code expired", *["the nonce is invalid or expired"] * 2]
    assert abs(float(str(claims[1]["iat"])) - time.time() - FIVE_MINUTES) < 30, claims
    # the poll on the node ahead is stamped five minutes on: the next one, on the node on time, is "too early"
    assert polls == ["expired_token", "slow_down"]
    for name in "AB":
        assert followed_offset((tmp_path / f"{name}.log").read_text()) is None


def command(config: Path, offset: int, *words: str) -> subprocess.CompletedProcess[str]:
    """``identityserver <words> --config <config>`` on a host whose clock is ``offset`` seconds off."""
    environment = {**os.environ, **clock_offset_environment(offset)}
    return subprocess.run(
        [sys.executable, "-m", "identityserver", *words, "--config", str(config)],
        capture_output=True, text=True, timeout=120, check=True, env=environment,
    )  # fmt: skip


@pytest.mark.parametrize("follow", [True, False], ids=["following", "control"])
async def test_commands_on_a_host_five_minutes_ahead_keep_the_database_time(database_url, tmp_path, follow):
    """``cleanup`` run on a host five minutes ahead leaves a code that has minutes to live, and ``keys rotate``
    dates its key by the database's time; with ``follow_database = false`` (the control) the cleanup removes the
    live code, whose redemption then fails, and the key is dated five minutes on."""
    extra = "" if follow else "[options.clock]\nfollow_database = false\n"
    config = write_config(tmp_path / "server.toml", database_url, None, extra=extra)
    with cluster(config, tmp_path, count=1) as nodes:
        balancer = Balancer(nodes)
        async with http_client(balancer) as http:
            grant = await obtain_code(http, "web", WEB_CB, "openid api1")
            await asyncio.to_thread(command, config, FIVE_MINUTES, "cleanup")
            rotated = await asyncio.to_thread(command, config, FIVE_MINUTES, "keys", "rotate", "--json")
            redeemed = await redeem(http, grant)
    created = datetime.fromisoformat(json.loads(rotated.stdout)["created"][0]["created"]).timestamp()
    if follow:
        assert redeemed.status_code == 200, redeemed.text
        assert abs(created - time.time()) < 60, created - time.time()
    else:
        assert redeemed.status_code == 400 and redeemed.json()["error"] == "invalid_grant", redeemed.text
        assert abs(created - time.time() - FIVE_MINUTES) < 60, created - time.time()
