"""security.md §1.18, storage and data protection: handles are stored only as hashes, a tampered grant payload is
refused (never a server error, never another subject), hostile characters reach the SQL stores without a server
error, and no token, secret or password ends up in the logs."""

from __future__ import annotations

import dataclasses
import json
import logging
from urllib.parse import urlencode

import pytest

from identityserver.configuration.host import create_builder
from identityserver.models.grants import PersistedGrantFilter
from identityserver.options import EventsOptions
from tests.security.support import bearer, serve, server_with
from tests.support.browser import (
    Browser,
    code_request,
    obtain_code,
    redeem,
    redirect_parameters,
    refresh,
    sign_in,
    tokens_for,
)
from tests.support.clock import FakeClock
from tests.support.data import test_configuration as canonical_configuration
from tests.support.server import basic


@pytest.fixture
async def server():
    async with server_with() as srv:
        yield srv


def rows(server):
    return server.services.persisted_grants.all()


# -- item 146 -------------------------------------------------------------------------------------------------------


async def test_no_persisted_row_contains_a_code_or_token_handle(server):
    grant = await obtain_code(server.client, "web.reference", scope="openid api1 offline_access")
    before_redemption = json.dumps([dataclasses.asdict(r) for r in rows(server)], default=str)
    assert grant.code not in before_redemption and grant.code.split("-")[0] not in before_redemption
    tokens = (await redeem(server.client, grant)).json()
    rotated = (await refresh(server.client, "web.reference", tokens["refresh_token"])).json()
    dump = json.dumps([dataclasses.asdict(r) for r in rows(server)], default=str)
    for handle in (
        grant.code,
        tokens["refresh_token"],
        tokens["access_token"],
        rotated["refresh_token"],
        rotated["access_token"],
    ):
        assert handle not in dump and handle.split("-")[0] not in dump
        assert handle[-66:-2] not in dump  # the 256 random bits, with or without the issue time before them
    containers = [c for c in (json.loads(r.data) for r in rows(server)) if "PersistentGrantDataContainerVersion" in c]
    assert containers and all(c["DataProtected"] is True for c in containers)


# -- item 147: tampered payloads --------------------------------------------------------------------------------


async def tamper(server, grant_type: str, change) -> None:
    store = server.services.persisted_grants
    for row in await store.get_all(PersistedGrantFilter(subject_id="1", type=grant_type)):
        row.data = change(row.data)
        await store.store(row)


def flip_payload_byte(data: str) -> str:
    container = json.loads(data)
    payload = container["Payload"]
    middle = len(payload) // 2
    container["Payload"] = payload[:middle] + ("A" if payload[middle] != "A" else "B") + payload[middle + 1 :]
    return json.dumps(container)


@pytest.mark.parametrize(
    "change",
    [
        flip_payload_byte,
        lambda data: data[:-10],
        lambda data: "not json",
        lambda data: json.dumps(
            {
                "PersistentGrantDataContainerVersion": 1,
                "DataProtected": False,
                "Payload": json.dumps({"SubjectId": "2"}),
            }
        ),
    ],
)
async def test_tampered_refresh_token_payload_is_invalid_grant(server, change):
    tokens = await tokens_for(server.client)
    await tamper(server, "refresh_token", change)
    response = await refresh(server.client, "web", tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_tampered_code_payload_is_invalid_grant(server):
    grant = await obtain_code(server.client)
    await tamper(server, "authorization_code", flip_payload_byte)
    response = await redeem(server.client, grant)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_tampered_reference_token_payload_is_inactive(server):
    tokens = await tokens_for(server.client, "web.reference", scope="openid api1")
    await tamper(server, "reference_token", flip_payload_byte)
    introspection = await server.client.post(
        "/connect/introspect", data={"token": tokens["access_token"]}, headers=basic("urn:api1", "api1-secret")
    )
    assert introspection.json() == {"active": False}
    assert (await server.client.get("/connect/userinfo", headers=bearer(tokens["access_token"]))).status_code == 401


@pytest.mark.parametrize("change", [lambda data: data[:-5], lambda data: "[]", lambda data: '{"Scopes": 7}'])
async def test_unreadable_consent_asks_for_consent_again(server, change):
    await obtain_code(server.client)  # remembers the consent
    await tamper(server, "user_consent", change)
    params, _ = code_request()
    page = await Browser(server.client).get("/connect/authorize?" + urlencode(params))
    assert page.status_code == 200 and "/consent" in str(page.url)


# -- item 149: hostile characters against the SQL stores -------------------------------------------------------

HOSTILE = [
    "web' OR '1'='1",
    'web"; DROP TABLE Clients; --',
    "web\x00",
    "web%",
    "web_",
    "\U0001f600",
    "\ufffd",
    "a" * 100,
]


async def test_hostile_characters_against_the_sql_stores_are_answered_without_a_server_error(tmp_path):
    builder = create_builder(canonical_configuration(), tmp_path, issuer_uri="https://idp.example")
    builder.set_clock(FakeClock())
    async with serve(builder) as server:
        for value in HOSTILE:
            params, _ = code_request(value, state=value, login_hint=value[:100], nonce=value)
            response = await server.client.get("/connect/authorize?" + urlencode(params))
            assert response.status_code == 302 and response.headers["location"].startswith("/home/error"), value
            token = await server.token(
                {"grant_type": "client_credentials", "scope": "api1"}, headers=basic(value, value)
            )
            assert token.status_code == 401 and token.json()["error"] == "invalid_client", value
            for form in (
                {"grant_type": "refresh_token", "refresh_token": value},
                {"grant_type": "authorization_code", "code": value, "redirect_uri": "https://web.example/cb"},
            ):
                answer = await server.token(form, headers=basic("web", "secret"))
                assert answer.status_code == 400 and answer.json()["error"] in ("invalid_grant", "invalid_request")
            introspection = await server.client.post(
                "/connect/introspect", data={"token": value}, headers=basic("urn:api1", "api1-secret")
            )
            assert introspection.json() == {"active": False}
            revocation = await server.client.post(
                "/connect/revocation", data={"token": value}, headers=basic("web", "secret")
            )
            assert revocation.status_code == 200
            if value.isascii() and "\x00" not in value:  # what an HTTP client can send in a header
                userinfo = await server.client.get("/connect/userinfo", headers=bearer(value))
                assert userinfo.status_code == 401
        browser = Browser(server.client)
        page = await sign_in(browser, "alice", "alice")
        assert "Signed in as" in page.text
        login = await browser.get("/account/login")
        for value in HOSTILE:
            page = await browser.login(login, value, value)
            assert page.status_code in (400, 429), value
        params, _ = code_request(state="\U0001f600\x00'\"", nonce="\U0001f600")
        response = await server.client.get("/connect/authorize?" + urlencode(params))
        assert response.status_code == 302


# -- item 150: secrets stay out of logs and error bodies ------------------------------------------------------------

LOGGED_TOML = """
[[clients]]
client_id = "logged"
client_secrets = ["Client-Secret-Value-4b1d"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://logged.example/cb"]
allowed_scopes = ["openid", "api1"]
allow_offline_access = true
"""


async def test_no_token_secret_or_password_is_logged_or_echoed(caplog):
    caplog.set_level(logging.DEBUG)
    events = EventsOptions(True, True, True, True)
    async with server_with(LOGGED_TOML, events=events) as server:
        await server.services.users.auto_provision_user("carol", "Carol-Password-77e2", [])
        browser = Browser(server.client)
        wrong_login = await browser.login(await browser.get("/account/login"), "carol", "Wrong-Password-91aa")
        assert "Wrong-Password-91aa" not in wrong_login.text
        params, verifier = code_request("logged", "https://logged.example/cb", "openid api1 offline_access")
        page = await browser.get("/connect/authorize?" + urlencode(params))
        page = await browser.login(page, "carol", "Carol-Password-77e2")
        code = redirect_parameters(page)["code"]
        secret = basic("logged", "Client-Secret-Value-4b1d")
        wrong = await server.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "https://logged.example/cb",
                "code_verifier": verifier,
            },
            headers=basic("logged", "Wrong-Secret-Value-c0de"),
        )
        assert "Wrong-Secret-Value-c0de" not in wrong.text
        tokens = (
            await server.token(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": "https://logged.example/cb",
                    "code_verifier": verifier,
                },
                headers=secret,
            )
        ).json()
        rotated = (
            await server.token(
                {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, headers=secret
            )
        ).json()
        await server.client.get("/connect/userinfo", headers=bearer(rotated["access_token"]))
        await server.client.post(
            "/connect/introspect", data={"token": rotated["access_token"]}, headers=basic("urn:api1", "api1-secret")
        )
        await server.client.post("/connect/revocation", data={"token": rotated["refresh_token"]}, headers=secret)
        await server.client.get("/connect/endsession?" + urlencode({"id_token_hint": rotated["id_token"]}))
        replay = await server.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "https://logged.example/cb",
                "code_verifier": verifier,
            },
            headers=secret,
        )
        assert code not in replay.text
    logged = "\n".join(record.getMessage() + str(record.exc_info or "") for record in caplog.records)
    assert "Token Issued Success" in logged  # the events were on and logged
    for value in [
        code,
        verifier,
        tokens["access_token"],
        tokens["refresh_token"],
        tokens["id_token"],
        rotated["access_token"],
        rotated["refresh_token"],
        "Client-Secret-Value-4b1d",
        "Wrong-Secret-Value-c0de",
        "Carol-Password-77e2",
        "Wrong-Password-91aa",
        "api1-secret",
        secret["Authorization"].split()[1],
    ]:
        assert value not in logged, value
