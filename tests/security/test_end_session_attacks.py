"""security.md §1.11, end session and the logout pages: the cases tests/sessions/test_end_session.py does not cover
(query added to a registered post-logout URI, expired and foreign hints, a logoutId minted by someone else,
dangerous schemes and markup on the logged-out page)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from identityserver.crypto.jwt import encode_jws
from tests.security.support import server_with
from tests.support.browser import Browser, sign_in, tokens_for
from tests.support.client_auth import jwt_parts
from tests.support.server import Server

NAMED_TOML = """
[[clients]]
client_id = "named"
client_name = "<script>alert('name')</script>"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://named.example/cb"]
post_logout_redirect_uris = ["https://named.example/bye"]
allowed_scopes = ["openid"]
"""


@pytest.fixture
async def server():
    async with server_with(NAMED_TOML) as srv:
        yield srv


def is_error_page(page) -> bool:
    return page.status_code == 400 and "Sorry, there was an error" in page.text


async def end_session(server: Server, **params: str):
    return await Browser(server.client).get("/connect/endsession?" + urlencode(params))


async def signed_in_home(client) -> bool:
    return "Signed in as" in (await Browser(client).get("/")).text


async def test_registered_post_logout_uri_with_an_added_query_or_fragment_shows_the_error_page(server):
    tokens = await tokens_for(server.client)
    for uri in (
        "https://web.example/signed-out?foo=bar",
        "https://web.example/signed-out#x",
        "https://web.example/signed-out/",
        "https://web.example/Signed-out",
    ):
        page = await end_session(server, id_token_hint=tokens["id_token"], post_logout_redirect_uri=uri)
        assert is_error_page(page), uri
    assert await signed_in_home(server.client)


async def test_expired_but_genuine_id_token_hint_is_accepted(server):
    tokens = await tokens_for(server.client)
    server.clock.advance(hours=3)
    assert jwt_parts(tokens["id_token"])[1]["exp"] < server.clock.timestamp()
    page = await end_session(
        server, id_token_hint=tokens["id_token"], post_logout_redirect_uri="https://web.example/signed-out", state="st"
    )
    assert "You are now signed out" in page.text
    assert 'href="https://web.example/signed-out?state=st"' in page.text


async def test_hint_signed_by_a_foreign_key_under_this_servers_kid_shows_the_error_page(server):
    tokens = await tokens_for(server.client)
    header, claims = jwt_parts(tokens["id_token"])
    forged = encode_jws(header, claims, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    page = await end_session(server, id_token_hint=forged, post_logout_redirect_uri="https://web.example/signed-out")
    assert is_error_page(page)
    assert await signed_in_home(server.client)


async def test_no_parameters_and_no_session_shows_the_logged_out_page_without_a_redirect(server):
    page = await end_session(server)
    assert page.status_code == 200 and "You are now signed out" in page.text
    assert "post-logout-redirect" not in page.text


async def test_no_parameters_with_a_session_asks_before_signing_out(server):
    await tokens_for(server.client)
    page = await end_session(server)
    assert "Would you like to sign out?" in page.text
    assert await signed_in_home(server.client)


async def test_logout_id_minted_without_a_session_cannot_sign_out_another_user_silently(server):
    """RP-Initiated Logout §2, §6: a logoutId minted with someone else's hint must not sign the victim out silently."""
    await server.services.users.auto_provision_user("bob", "bob-password", [])
    tokens = await tokens_for(server.client)  # mallory's own browser and id token
    server.client.cookies.clear()
    minted = await server.client.get("/connect/endsession?" + urlencode({"id_token_hint": tokens["id_token"]}))
    logout_url = minted.headers["location"]
    assert logout_url.startswith("/account/logout?logoutId=")
    async with server.browser("198.51.100.20") as victim:
        await sign_in(Browser(victim), "bob", "bob-password")
        assert await signed_in_home(victim)
        page = await Browser(victim).get(logout_url)
        still_signed_in = await signed_in_home(victim)
    assert "Would you like to sign out?" in page.text
    assert still_signed_in


async def test_state_and_client_name_are_html_escaped_on_the_logged_out_page(server):
    await tokens_for(server.client)
    state = "\"><script>alert('state')</script>"
    page = await end_session(
        server, client_id="named", post_logout_redirect_uri="https://named.example/bye", state=state
    )
    done = await Browser(server.client).submit(page, {"button": "yes"})
    assert "You are now signed out" in done.text
    assert "<script>alert(" not in done.text
    assert "&lt;script&gt;alert(&#39;name&#39;)" in done.text or "&lt;script&gt;alert(&#x27;name" in done.text


async def test_javascript_post_logout_redirect_uri_is_never_rendered_as_a_link():
    """security.md item 106: a javascript: post-logout URI that reached the client store is never rendered."""

    def dangerous(builder):
        for client in builder.clients:
            if client.client_id == "web":
                client.post_logout_redirect_uris.append("JaVaScRiPt:alert(document.domain)")

    async with server_with(configure=dangerous) as server:
        tokens = await tokens_for(server.client)
        page = await end_session(
            server, id_token_hint=tokens["id_token"], post_logout_redirect_uri="JaVaScRiPt:alert(document.domain)"
        )
    assert "javascript:" not in page.text.lower()
