"""Every step of the interactive and token flows alternates between two ``serve`` processes on one PostgreSQL
database (and one Redis in the Redis variant), behind a load balancer without stickiness: whatever one node
stored, issued or ended is seen by the other at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlencode

import httpx

from identityserver.client.dpop import DPoPKey
from tests.scale_out.cluster import ISSUER, WEB_CB, Balancer, Node, cluster, http_client, write_config
from tests.support.browser import (
    Browser,
    authorize_path,
    code_request,
    complete_authorize,
    is_consent_page,
    is_login_page,
    obtain_code,
    redeem,
    redirect_parameters,
    refresh,
)
from tests.support.client_auth import jwt_parts
from tests.support.receiver import LogoutReceiver

SCOPE = "openid profile api1 offline_access"


async def sign_in_and_redeem(http: httpx.AsyncClient, balancer: Balancer, nodes: list[Node]) -> dict[str, str]:
    """Authorize (login and consent pages alternating between the nodes); redeem on the node that did not
    issue the code."""
    grant = await obtain_code(http, "web", WEB_CB, SCOPE)
    issued_by = balancer.served[-1]
    other = next(n for n in nodes if n.name != issued_by)
    with balancer.pin(other):
        response = await redeem(http, grant)
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


async def userinfo_on(http: httpx.AsyncClient, balancer: Balancer, node: Node, access_token: str) -> httpx.Response:
    with balancer.pin(node):
        return await http.get("/connect/userinfo", headers={"Authorization": f"Bearer {access_token}"})


async def test_code_flow_refresh_revocation_consent_dpop_and_logout_alternate_between_nodes(
    database_url, redis_url, topology, tmp_path
):
    await alternate_every_step(database_url, redis_url, topology, tmp_path)


async def alternate_every_step(
    database_url: str,
    redis_url: str | None,
    topology: str,
    tmp_path: Path,
    clock_offsets: Sequence[int] = (),
    environments: Sequence[Mapping[str, str]] = (),
) -> None:
    """The flows, every step on the other node than the step before; ``clock_offsets`` and ``environments``: the
    nodes' wall clocks and environments (``cluster``)."""
    with LogoutReceiver() as receiver:
        config = write_config(tmp_path / "server.toml", database_url, redis_url, logout_uri=receiver.url)
        with cluster(
            config, tmp_path, topology=topology, clock_offsets=clock_offsets, environments=environments
        ) as nodes:
            a, b = nodes
            balancer = Balancer(nodes)
            async with http_client(balancer) as first, http_client(balancer) as second:
                # authorize (login, consent) alternating; redeem on the other node
                tokens = await sign_in_and_redeem(first, balancer, nodes)
                assert set(balancer.served) == {"A", "B"}
                for node in nodes:
                    response = await userinfo_on(first, balancer, node, tokens["access_token"])
                    assert response.status_code == 200 and response.json()["sub"] == "alice-1", response.text

                # refresh on A, then the rotated token on B; the used one is refused on either
                with balancer.pin(a):
                    rotated = await refresh(first, "web", tokens["refresh_token"])
                assert rotated.status_code == 200, rotated.text
                with balancer.pin(b):
                    again = await refresh(first, "web", rotated.json()["refresh_token"])
                assert again.status_code == 200, again.text
                with balancer.pin(a):
                    replay = await refresh(first, "web", rotated.json()["refresh_token"])
                assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"

                # consent remembered on one node: a new browser signing in is not asked again on the other
                params, _ = code_request("web", WEB_CB, SCOPE)
                login = await Browser(second).get(authorize_path(params))
                assert is_login_page(login)
                final = await Browser(second).login(login, "alice", "alice")
                assert not is_consent_page(final) and final.status_code == 302, final.text[:300]
                assert "code" in redirect_parameters(final)

                # reference token issued on A: introspected on B; revoked on B, inactive on A
                await reference_tokens_revoke_on_b_introspect_on_a(first, balancer, a, b)
                # a DPoP nonce issued by A is accepted by B
                await dpop_nonce_from_a_accepted_by_b(first, balancer, a, b)

                # server-side session: ended on A (second browser), gone on B
                with balancer.pin(b):
                    silent = await second.get(
                        authorize_path({**code_request("web", WEB_CB, "openid")[0], "prompt": "none"})
                    )
                assert "code" in redirect_parameters(silent), silent.headers.get("location")
                id_token_2 = await tokens_of(second, balancer, b)
                cookies = httpx.Cookies(second.cookies)
                with balancer.pin(a):
                    ended = await Browser(second).get(f"/connect/endsession?{urlencode({'id_token_hint': id_token_2})}")
                assert ended.status_code == 200, ended.text[:300]
                async with http_client(Balancer([b])) as stolen:
                    stolen.cookies = cookies  # the cookie from before the logout, replayed on the other node
                    silent = await stolen.get(
                        authorize_path({**code_request("web", WEB_CB, "openid")[0], "prompt": "none"})
                    )
                assert redirect_parameters(silent).get("error") == "login_required", silent.headers.get("location")

                # logout of the first browser on B: each session's back-channel logout arrives exactly once
                with balancer.pin(b):
                    ended = await Browser(first).get(
                        f"/connect/endsession?{urlencode({'id_token_hint': tokens['id_token']})}"
                    )
                assert ended.status_code == 200, ended.text[:300]
                await asyncio.to_thread(receiver.wait, 2, 15)
                await asyncio.sleep(1.5)  # several poll intervals of both nodes: no second delivery
                sids = [jwt_parts(r["logout_token"][0])[1]["sid"] for r in receiver.received]
                assert len(sids) == 2 and len(set(sids)) == 2, sids
                for received in receiver.received:
                    claims = jwt_parts(received["logout_token"][0])[1]
                    assert claims["iss"] == ISSUER and claims["aud"] == "web" and claims["sub"] == "alice-1"
                    skew = max((abs(offset) for offset in clock_offsets), default=0)
                    assert abs(time.time() - claims["iat"]) < 120 + skew


async def tokens_of(http: httpx.AsyncClient, balancer: Balancer, node: Node) -> str:
    """A fresh ID token for the browser's session (silent authorize + redemption on ``node``)."""
    with balancer.pin(node):
        params, verifier = code_request("web", WEB_CB, "openid")
        final = await complete_authorize(Browser(http), {**params, "prompt": "none"})
        code = redirect_parameters(final)["code"]
        response = await http.post(
            "/connect/token",
            auth=("web", "secret"),
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": WEB_CB, "code_verifier": verifier},
        )
    assert response.status_code == 200, response.text
    id_token: str = response.json()["id_token"]
    return id_token


async def reference_tokens_revoke_on_b_introspect_on_a(
    http: httpx.AsyncClient, balancer: Balancer, a: Node, b: Node
) -> None:
    with balancer.pin(a):
        issued = await http.post("/connect/token", auth=("m2m", "secret"), data={"grant_type": "client_credentials"})
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    assert token.count(".") == 0  # a reference token: only the database knows it

    async def introspect(node: Node) -> bool:
        with balancer.pin(node):
            response = await http.post("/connect/introspect", auth=("urn:api1", "api-secret"), data={"token": token})
        assert response.status_code == 200, response.text
        active: bool = response.json()["active"]
        return active

    assert await introspect(b)
    with balancer.pin(b):
        revoked = await http.post("/connect/revocation", auth=("m2m", "secret"), data={"token": token})
    assert revoked.status_code == 200, revoked.text
    assert not await introspect(a)
    assert not await introspect(b)


async def nonce_of_a_presented_to_b(http: httpx.AsyncClient, balancer: Balancer, a: Node, b: Node) -> httpx.Response:
    """A client_credentials request to ``b`` whose DPoP proof carries the nonce ``a`` asked for."""
    key = DPoPKey.generate()
    url = f"{ISSUER}/connect/token"
    form = {"grant_type": "client_credentials"}
    with balancer.pin(a):
        challenge = await http.post(
            url, auth=("dpop", "secret"), data=form, headers={"DPoP": key.create_proof("POST", url)}
        )
    assert challenge.status_code == 400 and challenge.json()["error"] == "use_dpop_nonce", challenge.text
    nonce = challenge.headers["dpop-nonce"]
    with balancer.pin(b):
        return await http.post(
            url, auth=("dpop", "secret"), data=form, headers={"DPoP": key.create_proof("POST", url, nonce=nonce)}
        )


async def dpop_nonce_from_a_accepted_by_b(http: httpx.AsyncClient, balancer: Balancer, a: Node, b: Node) -> None:
    answer = await nonce_of_a_presented_to_b(http, balancer, a, b)
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "DPoP"
