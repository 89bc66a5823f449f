"""Back-channel logout end to end: sign in through the UI flow, sign out, a real HTTP receiver gets a logout
token that verifies against JWKS (OIDC Back-Channel Logout 1.0 §2.4-2.6)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import tomllib
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet

from identityserver.configuration.loader import parse_configuration
from identityserver.options import LogoutOptions
from tests.support.browser import Browser, pkce_pair, redirect_parameters
from tests.support.receiver import LogoutReceiver
from tests.support.server import basic, make_builder, running

CONFIG = """
[[clients]]
client_id = "rp1"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://rp1.example/cb"]
post_logout_redirect_uris = ["https://rp1.example/bye"]
allowed_scopes = ["openid", "profile"]
allow_offline_access = true
back_channel_logout_uri = "%(uri)s"

[[users]]
subject_id = "1"
username = "alice"
password = "alice"
"""


async def sign_in(server, client_id: str = "rp1", redirect_uri: str = "https://rp1.example/cb") -> dict:
    browser = Browser(server.client)
    verifier, challenge = pkce_pair()
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": "openid profile offline_access",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "nonce": "n",
        }
    )
    page = await browser.get(f"/connect/authorize?{query}")
    if page.status_code == 200:
        page = await browser.login(page, "alice", "alice")
    params = redirect_parameters(page)
    token = await server.token(
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        headers=basic(client_id, "secret"),
    )
    assert token.status_code == 200, token.text
    return token.json()


async def sign_out(server, id_token: str) -> None:
    browser = Browser(server.client)
    page = await browser.get(f"/connect/endsession?{urlencode({'id_token_hint': id_token})}")
    assert page.status_code == 200, page.text
    assert "signed out" in page.text


async def verify_logout_token(server, token: str, typ: str) -> dict:
    jwks = (await server.client.get("/.well-known/openid-configuration/jwks")).json()
    header = json.loads(__import__("base64").urlsafe_b64decode(token.split(".", maxsplit=1)[0] + "==="))
    assert header["typ"] == typ
    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        now=int(server.clock.timestamp()), iss={"essential": True, "value": server.issuer}, exp={"essential": True}
    ).validate(decoded.claims)
    return dict(decoded.claims)


def build(receiver_url: str, logout_type: str | None = None):
    config = parse_configuration(tomllib.loads(CONFIG % {"uri": receiver_url}))
    builder = make_builder(config)
    if logout_type is not None:
        builder.options = dataclasses.replace(builder.options, logout=LogoutOptions(logout_token_jwt_type=logout_type))
    return builder


async def test_sign_out_sends_a_signed_logout_token_typed_logout_jwt():
    with LogoutReceiver() as receiver:
        async with running(build(receiver.url)) as server:
            tokens = await sign_in(server)
            await sign_out(server, tokens["id_token"])
            await server.services.backchannel_logout.drain()
            await asyncio.to_thread(receiver.wait)
            logout_token = receiver.received[0]["logout_token"][0]
            claims = await verify_logout_token(server, logout_token, "logout+jwt")
    id_claims = json.loads(__import__("base64").urlsafe_b64decode(tokens["id_token"].split(".")[1] + "==="))
    assert claims["iss"] == server.issuer
    assert claims["aud"] == "rp1"
    assert claims["sub"] == "1"
    assert claims["sid"] == id_claims["sid"]
    assert claims["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
    assert "nonce" not in claims
    assert claims["exp"] - claims["iat"] <= 120
    assert isinstance(claims["jti"], str) and claims["jti"]
    assert receiver.headers[0]["Content-Type"].startswith("application/x-www-form-urlencoded")


async def test_logout_token_type_is_configurable():
    with LogoutReceiver() as receiver:
        async with running(build(receiver.url, "JWT")) as server:
            tokens = await sign_in(server)
            await sign_out(server, tokens["id_token"])
            await server.services.backchannel_logout.drain()
            await asyncio.to_thread(receiver.wait)
            await verify_logout_token(server, receiver.received[0]["logout_token"][0], "JWT")


async def test_failing_receiver_does_not_block_sign_out():
    with LogoutReceiver(status=500) as receiver:
        async with running(build(receiver.url)) as server:
            tokens = await sign_in(server)
            await sign_out(server, tokens["id_token"])
            await server.services.backchannel_logout.drain()
            await asyncio.to_thread(receiver.wait)
            after = await server.client.get("/account/login")
            assert after.status_code == 200


async def test_a_receiver_that_hangs_neither_delays_sign_out_nor_holds_its_delivery_past_the_timeout(caplog):
    """security.md F7: sign-out answers while the relying party's endpoint has not answered, and the delivery
    gives up after ``back_channel_logout_timeout`` (the token stays queued for a retry)."""
    with LogoutReceiver(delay=30) as receiver:
        builder = build(receiver.url)
        builder.options = dataclasses.replace(builder.options, logout=LogoutOptions(back_channel_logout_timeout=1.0))
        async with running(builder) as server:
            tokens = await sign_in(server)
            started = time.monotonic()
            await sign_out(server, tokens["id_token"])
            signed_out = time.monotonic() - started
            await asyncio.wait_for(server.services.backchannel_logout.drain(), 10)
            gave_up = time.monotonic() - started
            assert (await server.client.get("/account/login")).status_code == 200
    assert signed_out < 5, signed_out  # not the receiver's 30 s
    assert gave_up < 10, gave_up  # the 1 s timeout, not the 30 s hang
    assert receiver.received == []  # it never answered
    assert any("for client rp1 failed (TimeoutError)" in r.getMessage() for r in caplog.records)
