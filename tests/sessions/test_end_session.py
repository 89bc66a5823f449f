"""End session (OIDC RP-Initiated Logout 1.0 §2-3) and the logout pages: every validation rule."""

from __future__ import annotations

import tomllib
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from identityserver.configuration.loader import parse_configuration
from tests.integration.test_backchannel_logout import sign_in
from tests.support.browser import Browser
from tests.support.server import make_builder, running

CONFIG = """
[[clients]]
client_id = "rp1"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://rp1.example/cb"]
post_logout_redirect_uris = ["https://rp1.example/bye"]
front_channel_logout_uri = "https://rp1.example/fc"
allowed_scopes = ["openid", "profile"]
allow_offline_access = true

[[clients]]
client_id = "rp2"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://rp2.example/cb"]
post_logout_redirect_uris = ["https://rp2.example/bye"]
front_channel_logout_uri = "https://rp2.example/fc?x=1"
front_channel_logout_session_required = false
allowed_scopes = ["openid", "profile"]
allow_offline_access = true

[[users]]
subject_id = "1"
username = "alice"
password = "alice"

[[users]]
subject_id = "2"
username = "bob"
password = "bob"
"""


@pytest.fixture
async def server():
    async with running(make_builder(parse_configuration(tomllib.loads(CONFIG)))) as srv:
        yield srv


def error_page(response) -> bool:
    return response.status_code == 400 and "Sorry, there was an error" in response.text


async def end_session(server, **params):
    return await Browser(server.client).get(f"/connect/endsession?{urlencode(params)}")


async def test_valid_hint_and_registered_uri_sign_out_and_offer_the_redirect_with_state(server):
    tokens = await sign_in(server)
    page = await end_session(
        server, id_token_hint=tokens["id_token"], post_logout_redirect_uri="https://rp1.example/bye", state="s1"
    )
    assert page.status_code == 200 and "You are now signed out" in page.text
    assert 'href="https://rp1.example/bye?state=s1"' in page.text
    after = await Browser(server.client).get("/")
    assert "Signed in as" not in after.text


async def test_without_hint_the_user_is_asked_to_confirm(server):
    await sign_in(server)
    page = await end_session(server)
    assert "Would you like to sign out?" in page.text
    done = await Browser(server.client).submit(page, {"button": "yes"})
    assert "You are now signed out" in done.text


async def test_confirmation_post_without_antiforgery_token_changes_nothing(server):
    await sign_in(server)
    page = await end_session(server)
    assert "Would you like to sign out?" in page.text
    response = await server.client.post("/account/logout", data={"button": "yes", "logoutId": ""})
    assert response.status_code == 400
    home = await Browser(server.client).get("/")
    assert "Signed in as" in home.text


async def test_wrong_hint_shows_the_error_page(server):
    await sign_in(server)
    assert error_page(await end_session(server, id_token_hint="not.a.jwt"))


async def test_hint_of_another_user_shows_the_error_page(server):
    tokens = await sign_in(server)
    await end_session(server, id_token_hint=tokens["id_token"])
    browser = Browser(server.client)
    page = await browser.get("/account/login")
    await browser.login(page, "bob", "bob")
    assert error_page(await end_session(server, id_token_hint=tokens["id_token"]))


async def test_foreign_post_logout_redirect_uri_shows_the_error_page(server):
    tokens = await sign_in(server)
    for uri in (
        "https://evil.example/bye",
        "https://rp2.example/bye",
        "https://rp1.example/bye/x",
        "https://RP1.example/bye",
    ):
        assert error_page(await end_session(server, id_token_hint=tokens["id_token"], post_logout_redirect_uri=uri))


async def test_redirect_uri_without_hint_or_client_id_shows_the_error_page(server):
    assert error_page(await end_session(server, post_logout_redirect_uri="https://rp1.example/bye"))


async def test_client_id_alone_allows_the_registered_redirect_after_confirmation(server):
    await sign_in(server)
    page = await end_session(server, client_id="rp1", post_logout_redirect_uri="https://rp1.example/bye", state="s")
    assert "Would you like to sign out?" in page.text
    done = await Browser(server.client).submit(page, {"button": "yes"})
    assert 'href="https://rp1.example/bye?state=s"' in done.text


async def test_client_id_not_matching_the_hint_shows_the_error_page(server):
    tokens = await sign_in(server)
    assert error_page(await end_session(server, id_token_hint=tokens["id_token"], client_id="rp2"))


async def test_state_without_a_redirect_is_not_echoed(server):
    tokens = await sign_in(server)
    page = await end_session(server, id_token_hint=tokens["id_token"], state="lonely")
    assert "You are now signed out" in page.text and "lonely" not in page.text


async def test_duplicate_parameters_show_the_error_page(server):
    response = await Browser(server.client).get("/connect/endsession?state=a&state=b")
    assert error_page(response)


async def test_logged_out_page_renders_front_channel_iframes_with_iss_and_sid(server):
    first = await sign_in(server)
    await sign_in(server, "rp2", "https://rp2.example/cb")
    page = await end_session(server, id_token_hint=first["id_token"])
    frames = [line for line in page.text.split("<iframe")[1:]]
    assert len(frames) == 2
    rp1 = next(f for f in frames if "rp1.example" in f)
    src = rp1.split('src="')[1].split('"')[0].replace("&amp;", "&")
    query = parse_qs(urlsplit(src).query)
    assert query["iss"] == [server.issuer] and len(query["sid"][0]) > 10
    assert 'src="https://rp2.example/fc?x=1"' in page.text
    csp = page.headers["content-security-policy"]
    assert "frame-src https://rp1.example https://rp2.example" in csp and "frame-ancestors 'none'" in csp


async def test_prompt_none_after_sign_out_answers_login_required(server):
    tokens = await sign_in(server)
    await end_session(server, id_token_hint=tokens["id_token"])
    from tests.support.browser import pkce_pair, redirect_parameters

    _, challenge = pkce_pair()
    query = urlencode(
        {
            "client_id": "rp1",
            "response_type": "code",
            "redirect_uri": "https://rp1.example/cb",
            "scope": "openid",
            "prompt": "none",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "q",
        }
    )
    response = await Browser(server.client).get(f"/connect/authorize?{query}")
    params = redirect_parameters(response)
    assert params["error"] == "login_required" and params["state"] == "q"


async def test_check_session_iframe_is_frameable_and_advertised(server):
    response = await server.client.get("/connect/checksession")
    assert response.status_code == 200
    assert "x-frame-options" not in response.headers
    assert "frame-ancestors *" in response.headers["content-security-policy"]
    assert "script-src 'sha256-" in response.headers["content-security-policy"]
    discovery = (await server.client.get("/.well-known/openid-configuration")).json()
    assert discovery["check_session_iframe"] == f"{server.issuer}/connect/checksession"
    assert discovery["end_session_endpoint"] == f"{server.issuer}/connect/endsession"
    assert discovery["frontchannel_logout_supported"] and discovery["backchannel_logout_session_supported"]


async def test_authorize_response_carries_session_state(server):
    from tests.support.browser import pkce_pair, redirect_parameters

    await sign_in(server)
    _, challenge = pkce_pair()
    query = urlencode(
        {
            "client_id": "rp1",
            "response_type": "code",
            "redirect_uri": "https://rp1.example/cb",
            "scope": "openid",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    params = redirect_parameters(await Browser(server.client).get(f"/connect/authorize?{query}"))
    digest, _, salt = params["session_state"].partition(".")
    assert len(salt) == 32 and len(digest) == 43
