"""Issue 16 item 6 in library use: without ``issuer_uri`` the issuer comes from the ``Host`` header, so only
hosts in ``allowed_hosts`` (default: ``localhost`` and the loopback literals) are served; others get 400 from the
protocol endpoints and the UI alike, also when a trusted proxy forwards the host."""

from __future__ import annotations

import httpx
import pytest

from identityserver.hosting.app import create_app
from identityserver.hosting.hosts import host_allowed
from identityserver.options import ForwardedHeadersOptions
from identityserver.ui import create_ui
from tests.security.support import server_with
from tests.support.server import basic

DISCOVERY = "/.well-known/openid-configuration"


async def test_a_foreign_host_gets_400_everywhere_and_no_token_names_it():
    async with server_with(issuer_uri=None) as server:
        client = server.client
        assert (await client.get(DISCOVERY, headers={"Host": "attacker.example"})).status_code == 400
        token = await client.post(
            "/connect/token",
            data={"grant_type": "client_credentials", "scope": "api1"},
            headers={**basic("m2m", "secret"), "Host": "attacker.example"},
        )
        assert token.status_code == 400 and "access_token" not in token.text
        assert (await client.get("/account/login", headers={"Host": "attacker.example"})).status_code == 400
        local = await client.get(DISCOVERY, headers={"Host": "localhost:5000"})
        assert local.status_code == 200 and local.json()["issuer"] == "https://localhost:5000"


async def test_configured_hosts_are_served_and_others_refused():
    async with server_with(issuer_uri=None, allowed_hosts=("idp.example", "login.example:8443")) as server:
        client = server.client
        assert (await client.get(DISCOVERY, headers={"Host": "IDP.example"})).json()["issuer"] == "https://idp.example"
        assert (await client.get(DISCOVERY, headers={"Host": "login.example:8443"})).status_code == 200
        assert (await client.get(DISCOVERY, headers={"Host": "login.example:9443"})).status_code == 400
        assert (await client.get(DISCOVERY, headers={"Host": "localhost"})).status_code == 400


async def test_a_host_forwarded_by_a_trusted_proxy_is_checked_too():
    forwarded = ForwardedHeadersOptions(trusted_proxies=("10.0.0.0/8",))
    async with server_with(issuer_uri=None, allowed_hosts=("idp.example",), forwarded_headers=forwarded) as server:
        app = create_app(server.services, create_ui(server.services))
        transport = httpx.ASGITransport(app=app, client=("10.0.0.5", 41000))
        async with httpx.AsyncClient(transport=transport, base_url="http://internal:8080") as proxy:
            refused = await proxy.get(DISCOVERY, headers={"X-Forwarded-Host": "attacker.example"})
            assert refused.status_code == 400
            served = await proxy.get(
                DISCOVERY, headers={"X-Forwarded-Host": "idp.example", "X-Forwarded-Proto": "https"}
            )
            assert served.json()["issuer"] == "https://idp.example"


async def test_a_configured_issuer_ignores_the_host():
    async with server_with() as server:
        response = await server.client.get(DISCOVERY, headers={"Host": "attacker.example"})
        assert response.status_code == 200 and response.json()["issuer"] == server.issuer


@pytest.mark.parametrize(
    ("host", "allowed", "expected"),
    [
        ("localhost:5000", (), True),
        ("127.0.0.1", (), True),
        ("[::1]:8080", (), True),
        ("attacker.example", (), False),
        ("idp.example.", ("idp.example",), True),
        ("idp.example:443", ("idp.example:8443",), False),
        ("anything", ("*",), True),
        ("localhost.attacker.example", (), False),
    ],
)
def test_host_matching(host, allowed, expected):
    assert host_allowed(host, allowed) is expected
