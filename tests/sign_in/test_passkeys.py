"""Passkeys over HTTP (issue 14 "Passkeys"; WebAuthn L2 §7.1, §7.2; docs/sign-in.md) with a software
authenticator: registration by a signed-in user, username-less sign-in with ``amr``/``acr`` in the ID token,
rename and removal; malformed responses, wrong origins or RP ids, replayed challenges, missing user verification
and cloned authenticators refused with the session unchanged."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from tests.support.browser import Browser, CodeGrant, authorize_path, code_request, forms, redeem, redirect_parameters
from tests.support.client_auth import jwt_parts
from tests.support.data import test_configuration as configuration
from tests.support.server import Server, make_builder, running
from tests.support.webauthn_authenticator import SoftAuthenticator

ORIGIN, RP_ID = "https://idp.example", "idp.example"
STRICT_CLIENT = """
[[clients]]
client_id = "strict"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "profile"]
require_consent = false
require_mfa = true

[[clients]]
client_id = "nolocal"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid"]
require_consent = false
enable_local_login = false
"""


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with running(make_builder(configuration(STRICT_CLIENT))) as srv:
        yield srv


def token_of(page: httpx.Response, form_id: str) -> dict[str, str]:
    """The hidden fields of the passkey form ``form_id`` (anti-forgery token, returnUrl)."""
    start = page.text.index(f'id="{form_id}"')
    found = next(f for f in forms(page.text[page.text.rfind("<form", 0, start) :]))
    return dict(found.fields)


async def post(client: httpx.AsyncClient, path: str, fields: dict[str, str]) -> httpx.Response:
    return await client.post(
        path, content=urlencode(fields), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )


async def register(server: Server, authenticator: SoftAuthenticator, **response_overrides: str) -> httpx.Response:
    browser = Browser(server.client)
    page = await browser.get("/account/passkeys")
    if "/account/login" in str(page.url):
        page = await browser.submit(page, {"username": "alice", "password": "alice", "button": "login"})
    fields = token_of(page, "passkey-register")
    ceremony = (await post(server.client, "/account/passkeys/register/options", fields)).json()
    response = authenticator.create(ceremony["options"], **response_overrides)
    return await post(
        server.client,
        "/account/passkeys/register",
        {**fields, "state": ceremony["state"], "response": response, "name": "My key"},
    )


async def sign_in_fields(client: httpx.AsyncClient, return_url: str = "") -> tuple[dict[str, str], dict[str, str]]:
    """The login page's passkey form fields and a new ceremony (options JSON, state)."""
    page = await client.get("/account/login" + (f"?{urlencode({'returnUrl': return_url})}" if return_url else ""))
    fields = token_of(page, "passkey-login")
    ceremony = (await post(client, "/account/passkeys/options", fields)).json()
    return fields, ceremony


async def passkey_sign_in(
    client: httpx.AsyncClient, authenticator: SoftAuthenticator, return_url: str = "", **overrides: object
) -> httpx.Response:
    fields, ceremony = await sign_in_fields(client, return_url)
    response = authenticator.get(ceremony["options"], **overrides)  # type: ignore[arg-type]
    return await post(client, "/account/passkeys/sign-in", {**fields, "state": ceremony["state"], "response": response})


def signed_in(response: httpx.Response) -> bool:
    return any(c.startswith("idsrv=") and "Max-Age=0" not in c for c in response.headers.get_list("set-cookie"))


async def test_register_then_sign_in_without_a_username_gives_mfa_tokens(server: Server) -> None:
    key = SoftAuthenticator(RP_ID, ORIGIN)
    registered = await register(server, key)
    assert registered.status_code == 200, registered.text
    assert "My key" in (await server.client.get("/account/passkeys")).text
    stored = await server.services.passkeys.credentials("1")  # type: ignore[union-attr]
    assert [c.name for c in stored] == ["My key"] and stored[0].transports == ["internal"]
    server.client.cookies.clear()
    params, verifier = code_request(client_id="strict", scope="openid profile")
    login = await Browser(server.client).get(authorize_path(params))
    return_url = token_of(login, "passkey-login")["returnUrl"]
    answer = await passkey_sign_in(server.client, key, return_url)
    assert answer.status_code == 200 and signed_in(answer), answer.text
    final = await server.client.get(answer.json()["redirect"])
    returned = redirect_parameters(final)
    tokens = (await redeem(server.client, CodeGrant(returned["code"], verifier, params, returned))).json()
    claims = jwt_parts(tokens["id_token"])[1]
    assert claims["sub"] == "1" and claims["amr"] == ["hwk", "user", "mfa"] and claims["acr"] == "mfa"
    stored = await server.services.passkeys.credentials("1")  # type: ignore[union-attr]
    assert stored[0].sign_count == 1 and stored[0].last_used is not None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"origin": "https://evil.example"}, "origin"),
        ({"rp_id": "evil.example"}, "RP ID"),
        ({"counter": 0}, "count"),
    ],
)
async def test_bad_assertions_are_refused_and_sign_nobody_in(server: Server, overrides: dict, message: str) -> None:
    key = SoftAuthenticator(RP_ID, ORIGIN, counter=4)
    assert (await register(server, key)).status_code == 200
    server.client.cookies.clear()
    answer = await passkey_sign_in(server.client, key, **overrides)
    assert answer.status_code == 400 and not signed_in(answer)
    assert answer.json()["error"] == "invalid_request" and message.lower() in answer.text.lower(), answer.text


async def test_a_cloned_authenticator_whose_counter_goes_back_is_refused(server: Server) -> None:
    key = SoftAuthenticator(RP_ID, ORIGIN)
    assert (await register(server, key)).status_code == 200
    server.client.cookies.clear()
    assert (await passkey_sign_in(server.client, key, counter=7)).status_code == 200
    server.client.cookies.clear()
    clone = await passkey_sign_in(server.client, key, counter=5)
    assert clone.status_code == 400 and not signed_in(clone)


async def test_a_response_is_accepted_once(server: Server) -> None:
    key = SoftAuthenticator(RP_ID, ORIGIN)
    assert (await register(server, key)).status_code == 200
    server.client.cookies.clear()
    fields, ceremony = await sign_in_fields(server.client)
    body = {**fields, "state": ceremony["state"], "response": key.get(ceremony["options"])}
    assert (await post(server.client, "/account/passkeys/sign-in", body)).status_code == 200
    server.client.cookies.clear()
    fields, _ = await sign_in_fields(server.client)
    replay = await post(server.client, "/account/passkeys/sign-in", {**body, **fields})
    assert replay.status_code == 400 and "already used" in replay.text and not signed_in(replay)


async def test_malformed_unknown_and_unverified_responses_are_refused(server: Server) -> None:
    key = SoftAuthenticator(RP_ID, ORIGIN)
    assert (await register(server, key)).status_code == 200
    server.client.cookies.clear()
    stranger = SoftAuthenticator(RP_ID, ORIGIN)
    unverified = SoftAuthenticator(RP_ID, ORIGIN, key=key.key, credential_id=key.credential_id, counter=9)
    unverified.user_handle, unverified.user_verified = key.user_handle, False
    makers = [
        lambda options: "{",
        lambda options: json.dumps({"id": "x"}),
        lambda options: "[]",
        stranger.get,  # a credential registered nowhere
        unverified.get,  # no user verification flag (WebAuthn §7.2 step 17)
    ]
    for make in makers:
        fields, ceremony = await sign_in_fields(server.client)
        body = {**fields, "state": ceremony["state"], "response": make(ceremony["options"])}
        answer = await post(server.client, "/account/passkeys/sign-in", body)
        assert answer.status_code == 400 and not signed_in(answer), answer.text
    fields, ceremony = await sign_in_fields(server.client)
    answer = await post(
        server.client,
        "/account/passkeys/sign-in",
        {**fields, "state": "forged", "response": key.get(ceremony["options"])},
    )
    assert answer.status_code == 400 and "invalid" in answer.text
    no_csrf = await post(server.client, "/account/passkeys/sign-in", {"state": ceremony["state"], "response": "{}"})
    assert no_csrf.status_code == 400 and not signed_in(no_csrf)


async def test_registration_needs_user_verification_the_right_origin_and_a_session(server: Server) -> None:
    unverified = SoftAuthenticator(RP_ID, ORIGIN, user_verified=False)
    assert (await register(server, unverified)).status_code == 400
    assert (await register(server, SoftAuthenticator(RP_ID, ORIGIN), origin="https://evil.example")).status_code == 400
    assert (await register(server, SoftAuthenticator(RP_ID, ORIGIN), rp_id="evil.example")).status_code == 400
    assert await server.services.passkeys.credentials("1") == []  # type: ignore[union-attr]
    server.client.cookies.clear()
    anonymous = await post(server.client, "/account/passkeys/register/options", {})
    assert anonymous.status_code == 401


async def test_passkeys_are_renamed_and_removed_by_their_owner(server: Server) -> None:
    key = SoftAuthenticator(RP_ID, ORIGIN)
    assert (await register(server, key)).status_code == 200
    browser = Browser(server.client)
    page = await browser.get("/account/passkeys")
    renamed = await browser.submit(page, {"button": "rename", "name": "Work laptop"})
    assert "Work laptop" in renamed.text
    removed = await browser.submit(renamed, {"button": "remove"})
    assert "You have no passkeys yet." in removed.text
    server.client.cookies.clear()
    answer = await passkey_sign_in(server.client, key)
    assert answer.status_code == 400 and "not registered" in answer.text


async def test_a_client_without_local_login_gets_no_passkey_sign_in(server: Server) -> None:
    key = SoftAuthenticator(RP_ID, ORIGIN)
    assert (await register(server, key)).status_code == 200
    server.client.cookies.clear()
    params, _ = code_request(client_id="nolocal", scope="openid")
    login = await Browser(server.client).get(authorize_path(params))
    assert 'id="passkey-login"' not in login.text
    return_url = dict(parse_qsl(urlsplit(str(login.url)).query))["returnUrl"]
    fields, ceremony = await sign_in_fields(server.client)
    answer = await post(
        server.client,
        "/account/passkeys/sign-in",
        {**fields, "returnUrl": return_url, "state": ceremony["state"], "response": key.get(ceremony["options"])},
    )
    assert answer.status_code == 400 and "local account" in answer.text and not signed_in(answer)
