"""Issue 16 items 4 and 5 over HTTP: a stored front-channel logout URI cannot break or inject into the logged-out
page's ``Content-Security-Policy``, and a cookie session captured before logout no longer signs anyone in."""

from __future__ import annotations

import dataclasses
import tomllib
from urllib.parse import urlencode

import httpx
import pytest

from identityserver.configuration.errors import ConfigError
from identityserver.configuration.host import create_builder
from identityserver.configuration.loader import parse_configuration
from identityserver.hosting.app import create_app
from identityserver.options import ServerSideSessionsOptions
from identityserver.ui import create_ui
from tests.integration.test_backchannel_logout import sign_in
from tests.sessions.test_end_session import CONFIG
from tests.support.browser import Browser, authorize_path, code_request, obtain_code, redirect_parameters
from tests.support.data import test_configuration as canonical_configuration
from tests.support.server import ISSUER, make_builder, running

PI_URI = "https://π.example/fcl"
INJECTING_URI = "https://a.example;sandbox/fcl"


def stored_clients_with_bad_uris():
    """The test configuration plus two clients whose front-channel logout URIs bypassed validation (as a client
    stored by an older version, or written to the database directly, would)."""
    config = parse_configuration(tomllib.loads(CONFIG))
    rp2 = next(c for c in config.clients if c.client_id == "rp2")
    for client_id, uri in (("rp-pi", PI_URI), ("rp-inject", INJECTING_URI)):
        config.clients.append(
            dataclasses.replace(
                rp2,
                client_id=client_id,
                redirect_uris=[f"https://{client_id}.example/cb"],
                front_channel_logout_uri=uri,
            )
        )
    return config


async def test_logged_out_page_builds_its_csp_from_parsed_idna_origins_only():
    async with running(make_builder(stored_clients_with_bad_uris())) as server:
        first = await sign_in(server)
        for client_id in ("rp-pi", "rp-inject"):
            await sign_in(server, client_id, f"https://{client_id}.example/cb")
        page = await Browser(server.client).get(
            f"/connect/endsession?{urlencode({'id_token_hint': first['id_token']})}"
        )
        assert page.status_code == 200, page.text[:300]
        csp = page.headers["content-security-policy"]
        assert "frame-src https://rp1.example https://xn--1xa.example;" in csp
        assert "sandbox" not in csp and "https://a.example" not in csp
        assert csp.count(";") == 5
        # the other clients' logout iframes still render
        assert page.text.count("<iframe") == 2 and "https://rp1.example/fc?" in page.text


@pytest.mark.parametrize("uri", [INJECTING_URI, "https://a b.example/x", "ftp://rp.example/x", "https://:443/x"])
def test_front_channel_logout_uris_without_a_valid_origin_are_refused_at_load(uri):
    toml = CONFIG.replace('"https://rp1.example/fc"', f'"{uri}"')
    with pytest.raises(ConfigError, match="front_channel_logout_uri"):
        parse_configuration(tomllib.loads(toml))


def test_an_international_front_channel_logout_host_is_accepted_at_load():
    toml = CONFIG.replace("https://rp1.example/fc", PI_URI)
    assert any(c.front_channel_logout_uri == PI_URI for c in parse_configuration(tomllib.loads(toml)).clients)


async def prompt_none(client: httpx.AsyncClient) -> dict[str, str]:
    params, _ = code_request(prompt="none")
    return redirect_parameters(await Browser(client).get(authorize_path(params)))


async def log_out(client: httpx.AsyncClient) -> None:
    page = await client.get("/account/logout")
    done = await Browser(client).submit(page, {"button": "yes"})
    assert done.status_code == 200


async def test_a_cookie_captured_before_logout_no_longer_gets_a_code_with_prompt_none():
    async with running(make_builder()) as server:
        await obtain_code(server.client)
        captured = server.client.cookies["idsrv"]
        assert "code" in await prompt_none(server.client)
        await log_out(server.client)
        async with httpx.AsyncClient(transport=server.client._transport, base_url=ISSUER) as thief:
            thief.cookies.set("idsrv", captured)
            answer = await prompt_none(thief)
        assert answer.get("error") == "login_required" and "code" not in answer


async def test_reauthentication_keeps_the_new_cookie_and_ends_the_one_it_replaced():
    async with running(make_builder()) as server:
        await obtain_code(server.client)
        before = server.client.cookies["idsrv"]
        await obtain_code(server.client, prompt="login")
        after = server.client.cookies["idsrv"]
        assert after != before
        assert "code" in await prompt_none(server.client)
        async with httpx.AsyncClient(transport=server.client._transport, base_url=ISSUER) as thief:
            thief.cookies.set("idsrv", before)
            assert (await prompt_none(thief)).get("error") == "login_required"


async def test_signing_in_again_after_logout_works():
    async with running(make_builder()) as server:
        await obtain_code(server.client)
        await log_out(server.client)
        await obtain_code(server.client)
        assert "code" in await prompt_none(server.client)


async def test_server_side_sessions_end_without_the_list():
    options = dataclasses.replace(make_builder().options, server_side_sessions=ServerSideSessionsOptions(enabled=True))
    async with running(make_builder(options=options)) as server:
        await obtain_code(server.client)
        captured = server.client.cookies["idsrv"]
        await log_out(server.client)
        async with httpx.AsyncClient(transport=server.client._transport, base_url=ISSUER) as thief:
            thief.cookies.set("idsrv", captured)
            assert (await prompt_none(thief)).get("error") == "login_required"


async def test_the_revocation_list_is_shared_through_the_database(tmp_path):
    """Two processes on one database (here two ``Services`` on one SQLite file, as ``serve --workers 2`` has):
    a logout in one refuses the captured cookie in the other at once."""
    config = canonical_configuration()
    config.options = dataclasses.replace(config.options, issuer_uri=ISSUER)
    first, second = create_builder(config, tmp_path).build(), create_builder(config, tmp_path).build()
    for services in (first, second):
        for step in services.startup:
            await step()
    try:
        apps = [create_app(s, create_ui(s)) for s in (first, second)]
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[0]), base_url=ISSUER) as one,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[1]), base_url=ISSUER) as other,
        ):
            await obtain_code(one)
            captured = one.cookies["idsrv"]
            other.cookies.set("idsrv", captured)
            assert "code" in await prompt_none(other)
            await log_out(one)
            assert (await prompt_none(other)).get("error") == "login_required"
    finally:
        for services in (first, second):
            for step in services.shutdown:
                await step()
