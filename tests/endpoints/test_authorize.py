"""Authorize endpoint (RFC 6749 §3.1, §4.1-4.2; OIDC Core §3.1.2, §3.2, §3.3; RFC 7636; RFC 9101; RFC 9207;
duende §1.4, §1.6, §1.7, §1.15; security.md 1.1 and 1.17 items 139).

Errors found before the client and its redirect URI are trusted show the error page and never redirect to the
client; later errors go back to the validated redirect URI with ``state`` and ``iss``."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from identityserver._utils.b64 import b64url_encode
from identityserver.crypto.hashing import left_half_hash
from identityserver.crypto.jwk import public_jwk
from identityserver.options import IdentityServerOptions, UserInteractionOptions
from tests.support.browser import (
    Browser,
    authorize_path,
    code_request,
    complete_authorize,
    forms,
    is_consent_page,
    is_login_page,
    pkce_pair,
    redirect_parameters,
    sign_in,
)
from tests.support.client_auth import client_assertion, jwt_parts, verify_jwt
from tests.support.data import EC_CLIENT_KEY, RSA_CLIENT_KEY
from tests.support.data import test_configuration as configuration_with
from tests.support.server import Server, basic, make_builder, running

WEB_CB = "https://web.example/cb"


PUBLIC_CB = "https://app.example/cb"


def public_request(scope: str = "openid api1", **extra: str) -> dict[str, str]:
    """A valid code request of the public client (no consent): PKCE S256, state, nonce."""
    params, _ = code_request("public", PUBLIC_CB, scope, **extra)
    return params


def without(params: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in params.items() if k not in names}


async def signed_in(server: Server) -> Browser:
    browser = Browser(server.client)
    page = await sign_in(browser)
    assert page.status_code == 200, page.text
    return browser


async def assert_error_page(server: Server, response: httpx.Response, error: str | None = None) -> str:
    """The response sends the user to this server's error page (never to a client); return the page text.
    ``response`` is either the redirect itself or the page a ``Browser`` followed it to."""
    if response.status_code == 302:
        location = response.headers["location"]
        parts = urlsplit(location)
        assert parts.netloc in ("", "idp.example"), location
        assert parts.path == "/home/error", location
        assert set(parse_qs(parts.query)) == {"errorId"}, location
        page = await server.client.get(location)
    else:
        page = response
        assert urlsplit(str(page.url)).path == "/home/error", page.url
    assert page.status_code == 400
    assert "text/html" in page.headers["content-type"]
    if error is not None:
        assert error in page.text
    return page.text


def assert_client_redirect(
    server: Server, response: httpx.Response, redirect_uri: str, *, mode: str = "query"
) -> dict[str, str]:
    """A redirect to exactly ``redirect_uri`` carrying ``iss``; return its parameters."""
    assert response.status_code == 302, (response.status_code, response.text[:300])
    location = response.headers["location"]
    separator = "#" if mode == "fragment" else "?"
    assert location.startswith(redirect_uri + separator), location
    params = redirect_parameters(response)
    assert params["iss"] == server.issuer
    return params


async def authorize(server: Server, params: dict[str, str]) -> httpx.Response:
    return await server.client.get(authorize_path(params))


# -- client and redirect URI: the error page, never the client ------------------------------------------------


@pytest.mark.parametrize("client_id", ["unknown", "web.disabled", "m2m.disabled", "", "x" * 101])
async def test_unknown_disabled_missing_or_oversized_client_shows_the_error_page(server, client_id):
    params, _ = code_request(client_id)
    response = await authorize(server, params)
    await assert_error_page(server, response)
    assert "web.example" not in response.headers["location"]


async def test_missing_client_id_shows_the_error_page(server):
    params, _ = code_request()
    response = await authorize(server, without(params, "client_id"))
    await assert_error_page(server, response)


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/cb",
        "https://web.example/CB",
        "HTTPS://WEB.EXAMPLE/cb",
        "https://Web.Example/cb",
        "https://web.example/cb/",
        "https://web.example/cb?foo=bar",
        "https://web.example/cb#frag",
        "https://web.example/c",
        "https://web.example/cb/FAKEPATH",
        "https://web.example/cb%2FFAKEPATH",
        "https://web.example/cb/..%2FFAKEPATH",
        "https://web.example/cb/%2e%2e%2FFAKEPATH",
        "https://web.example/cb/..%252FFAKEPATH",
        "https://web.example/cb/;/../../x",
        "https://web.example/cb%3B%2F..%2F..",
        "https://web.example/cb%0A%0D/../../x",
        "https://web.example/cb/..;/x",
        "https://web.example@evil.example/cb",
        "https://web.example%40evil.example/cb",
        "https://evil.example\\@web.example/cb",
        "https://web.example.evil.example/cb",
        "https://web.example./cb",
        "https://web.example:443/cb",
        "http://web.example/cb",
        "http:/x",
        "/cb",
        "cb",
        "javascript:alert(1)",
        "https://web.example/cb ",
        "https://web.example/" + "a" * 400,
    ],
)
async def test_redirect_uri_that_is_not_exactly_registered_shows_the_error_page(server, redirect_uri):
    params, _ = code_request(redirect_uri=redirect_uri)
    response = await authorize(server, params)
    await assert_error_page(server, response)


async def test_missing_redirect_uri_shows_the_error_page(server):
    params, _ = code_request()
    response = await authorize(server, without(params, "redirect_uri"))
    await assert_error_page(server, response)


async def test_redirect_uri_registered_with_a_query_matches_only_that_exact_query(server):
    browser = await signed_in(server)
    _verifier, _challenge = pkce_pair()
    base = {"client_id": "native.nopkce", "response_type": "code", "scope": "openid", "state": "s"}
    response = await browser.get(authorize_path({**base, "redirect_uri": "https://native.example/cb?a=2"}))
    await assert_error_page(server, response)
    response = await browser.get(authorize_path({**base, "redirect_uri": "https://native.example/cb?a=1&b=2"}))
    await assert_error_page(server, response)
    response = await browser.get(authorize_path({**base, "redirect_uri": "https://native.example/cb?a=1"}))
    assert response.status_code == 302
    assert response.headers["location"].startswith("https://native.example/cb?a=1&")
    assert "code" in redirect_parameters(response)


async def test_error_page_shows_the_stored_error_and_not_request_text(server):
    params, _ = code_request(redirect_uri="https://evil.example/<script>alert(1)</script>")
    response = await authorize(server, params)
    text = await assert_error_page(server, response)
    assert "<script>alert(1)" not in text
    assert "evil.example" not in text


async def test_error_page_with_a_forged_error_id_shows_a_generic_message(server):
    page = await server.client.get("/home/error?errorId=forged<script>")
    assert page.status_code == 400
    assert "forged" not in page.text and "<script>" not in page.text


@pytest.mark.parametrize("name", ["client_id", "redirect_uri"])
async def test_client_id_or_redirect_uri_sent_twice_shows_the_error_page(server, name):
    params, _ = code_request()
    query = urlencode([*list(params.items()), (name, params[name])])
    response = await server.client.get(f"/connect/authorize?{query}")
    await assert_error_page(server, response)


@pytest.mark.parametrize(
    "name, value",
    [
        ("scope", "openid api2"),
        ("state", "other"),
        ("response_type", "code"),
        ("code_challenge", "A" * 43),
        ("nonce", "n2"),
    ],
)
async def test_other_parameter_sent_twice_is_invalid_request_at_the_client(server, name, value):
    params, _ = code_request()
    query = urlencode([*list(params.items()), (name, value)])
    response = await server.client.get(f"/connect/authorize?{query}")
    returned = assert_client_redirect(server, response, WEB_CB)
    assert returned["error"] == "invalid_request"
    assert "code" not in returned


RESOURCE_TOML = """
[[clients]]
client_id = "res"
require_client_secret = false
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://app.example/cb"]
allowed_scopes = ["openid", "api3"]

[[api_scopes]]
name = "api3"

[[api_resources]]
name = "https://api3.example"
scopes = ["api3"]
"""


async def test_resource_parameter_may_repeat():
    async with running(make_builder(configuration_with(RESOURCE_TOML))) as server:
        browser = await signed_in(server)
        params, _ = code_request("res", PUBLIC_CB, "openid api3")
        query = urlencode(list(params.items()) + [("resource", "https://api3.example")] * 2)
        returned = assert_client_redirect(server, await browser.get(f"/connect/authorize?{query}"), PUBLIC_CB)
        assert "code" in returned, returned


async def test_resource_indicator_naming_a_urn_api_resource_is_accepted_at_authorize(server):
    browser = await signed_in(server)
    params = public_request()
    query = urlencode([*list(params.items()), ("resource", "urn:api1")])
    returned = assert_client_redirect(server, await browser.get(f"/connect/authorize?{query}"), PUBLIC_CB)
    assert "code" in returned, returned


# -- response_type and response_mode ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "response_type, error",
    [
        (None, "invalid_request"),
        ("", "invalid_request"),
        ("foo", "unsupported_response_type"),
        ("code code", "unsupported_response_type"),
        ("code foo", "unsupported_response_type"),
        ("token", "unauthorized_client"),
        ("id_token", "unauthorized_client"),
        ("code id_token", "unauthorized_client"),
        ("code token", "unauthorized_client"),
    ],
)
async def test_response_type_missing_unknown_or_not_allowed_is_returned_to_the_client(server, response_type, error):
    params, _ = code_request()
    params = without(params, "response_type") if response_type is None else {**params, "response_type": response_type}
    response = await authorize(server, params)
    location = response.headers.get("location", "")
    assert response.status_code == 302
    assert location.startswith(WEB_CB), location
    returned = redirect_parameters(response)
    assert returned["error"] == error, returned
    assert returned["state"] == params["state"] and returned["iss"] == server.issuer


async def test_token_response_type_is_refused_for_a_client_without_browser_access_tokens(server):
    params = {
        "client_id": "implicit.nobrowser",
        "response_type": "id_token token",
        "scope": "openid api1",
        "redirect_uri": "https://implicit.example/cb",
        "nonce": "n",
        "state": "s",
    }
    response = await authorize(server, params)
    returned = assert_client_redirect(server, response, "https://implicit.example/cb", mode="fragment")
    assert returned["error"] == "unauthorized_client" and returned["state"] == "s"


async def test_unknown_response_mode_is_unsupported_response_type(server):
    params, _ = code_request(response_mode="web_message")
    returned = assert_client_redirect(server, await authorize(server, params), WEB_CB)
    assert returned["error"] == "unsupported_response_type"
    assert returned["state"] == params["state"]


async def test_query_response_mode_for_implicit_is_refused_through_the_fragment(server):
    params = {
        "client_id": "implicit",
        "response_type": "id_token",
        "scope": "openid",
        "nonce": "n",
        "redirect_uri": "https://implicit.example/cb",
        "state": "s",
        "response_mode": "query",
    }
    response = await authorize(server, params)
    returned = assert_client_redirect(server, response, "https://implicit.example/cb", mode="fragment")
    assert returned["error"] == "invalid_request" and returned["state"] == "s"


async def test_code_flow_in_fragment_mode_puts_the_code_in_the_fragment(server):
    browser = await signed_in(server)
    response = await browser.get(authorize_path(public_request(response_mode="fragment")))
    returned = assert_client_redirect(server, response, PUBLIC_CB, mode="fragment")
    assert "code" in returned and "?" not in response.headers["location"]


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = data.get("action")
        elif tag == "input":
            self.values[data["name"]] = data.get("value", "")


async def test_form_post_response_escapes_values_and_posts_only_to_the_redirect_uri(server):
    browser = await signed_in(server)
    state = "\"><script>alert(1)</script><input name='x"
    response = await browser.get(authorize_path(public_request(response_mode="form_post", state=state)))
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    parser = _Inputs()
    parser.feed(response.text)
    assert parser.action == PUBLIC_CB
    assert parser.values["state"] == state
    assert parser.values["iss"] == server.issuer
    assert "code" in parser.values and "x" not in parser.values
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "form-action https://app.example" in csp
    assert response.headers["cache-control"] == "no-store"


async def test_form_post_error_is_posted_to_the_client(server):
    params = public_request(response_mode="form_post", scope="openid unknown.scope")
    response = await authorize(server, params)
    assert response.status_code == 200
    parser = _Inputs()
    parser.feed(response.text)
    assert parser.action == PUBLIC_CB
    assert parser.values["error"] == "invalid_scope"
    assert parser.values["state"] == params["state"] and parser.values["iss"] == server.issuer


# -- scope, nonce, state and the optional parameters -----------------------------------------------------


@pytest.mark.parametrize(
    "scope, error",
    [
        (None, "invalid_scope"),
        ("", "invalid_scope"),
        ("   ", "invalid_scope"),
        ("openid " + "a" * 300, "invalid_scope"),
        ("openid unknown", "invalid_scope"),
        ("openid isolated.scope", "invalid_scope"),
        ("profile api1", "invalid_scope"),
    ],
)
async def test_missing_oversized_unknown_or_unallowed_scope_is_returned_to_the_client(server, scope, error):
    params, _ = code_request()
    params = without(params, "scope") if scope is None else {**params, "scope": scope}
    returned = assert_client_redirect(server, await authorize(server, params), WEB_CB)
    assert returned["error"] == error, returned
    assert returned["state"] == params["state"]


async def test_offline_access_for_a_client_without_offline_access_is_invalid_scope(server):
    params, _ = code_request("web.nooffline", scope="openid api1 offline_access")
    returned = assert_client_redirect(server, await authorize(server, params), WEB_CB)
    assert returned["error"] == "invalid_scope"


async def test_id_token_response_without_openid_is_invalid_scope(server):
    params = {
        "client_id": "implicit",
        "response_type": "id_token",
        "scope": "profile",
        "nonce": "n",
        "redirect_uri": "https://implicit.example/cb",
        "state": "s",
    }
    returned = assert_client_redirect(
        server, await authorize(server, params), "https://implicit.example/cb", mode="fragment"
    )
    assert returned["error"] == "invalid_scope"


async def test_id_token_only_response_with_an_api_scope_is_invalid_scope(server):
    params = {
        "client_id": "implicit",
        "response_type": "id_token",
        "scope": "openid api1",
        "nonce": "n",
        "redirect_uri": "https://implicit.example/cb",
        "state": "s",
    }
    returned = assert_client_redirect(
        server, await authorize(server, params), "https://implicit.example/cb", mode="fragment"
    )
    assert returned["error"] == "invalid_scope"


async def test_scope_order_and_extra_spaces_do_not_matter(server):
    browser = await signed_in(server)
    params = public_request(scope="  api1   openid ")
    returned = assert_client_redirect(server, await browser.get(authorize_path(params)), PUBLIC_CB)
    assert "code" in returned


@pytest.mark.parametrize("response_type", ["id_token", "id_token token"])
async def test_nonce_is_required_when_an_id_token_is_returned(server, response_type):
    params = {
        "client_id": "implicit",
        "response_type": response_type,
        "scope": "openid",
        "redirect_uri": "https://implicit.example/cb",
        "state": "s",
    }
    returned = assert_client_redirect(
        server, await authorize(server, params), "https://implicit.example/cb", mode="fragment"
    )
    assert returned["error"] == "invalid_request" and returned["state"] == "s"


async def test_code_flow_without_nonce_succeeds(server):
    browser = await signed_in(server)
    returned = assert_client_redirect(
        server, await browser.get(authorize_path(without(public_request(), "nonce"))), PUBLIC_CB
    )
    assert "code" in returned


@pytest.mark.parametrize(
    "name, value",
    [
        ("nonce", "n" * 301),
        ("login_hint", "h" * 101),
        ("acr_values", "a" * 301),
        ("ui_locales", "u" * 101),
        ("max_age", "-1"),
        ("max_age", "abc"),
        ("max_age", "1.5"),
        ("max_age", "99999999999999999999"),
    ],
)
async def test_oversized_or_malformed_optional_parameter_is_invalid_request(server, name, value):
    params, _ = code_request(**{name: value})
    returned = assert_client_redirect(server, await authorize(server, params), WEB_CB)
    assert returned["error"] == "invalid_request", returned
    assert returned["state"] == params["state"]


async def test_oversized_state_is_refused_and_never_echoed_truncated(server):
    params, _ = code_request(state="s" * 10_000)
    response = await authorize(server, params)
    assert response.status_code in (302, 400, 414)
    if response.status_code == 302:
        location = response.headers["location"]
        if location.startswith(WEB_CB):
            returned = redirect_parameters(response)
            assert returned["error"] == "invalid_request"
            assert returned.get("state") in (None, params["state"])
        else:
            await assert_error_page(server, response)


async def test_optional_parameters_and_unknown_parameters_are_accepted(server):
    browser = await signed_in(server)
    params = public_request(
        display="popup",
        ui_locales="en-GB fr",
        claims_locales="en",
        login_hint="alice",
        acr_values="urn:some:acr",
        extra="foobar",
        max_age="10000",
    )
    returned = assert_client_redirect(server, await browser.get(authorize_path(params)), PUBLIC_CB)
    assert "code" in returned and returned["state"] == params["state"]


# -- PKCE ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"code_challenge": None},
        {"code_challenge_method": None},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": "S512"},
        {"code_challenge_method": "s256"},
        {"code_challenge": "A" * 42},
        {"code_challenge": "A" * 129},
        {"code_challenge": "A" * 42 + "+"},
        {"code_challenge": "A" * 42 + "="},
        {"code_challenge": "A" * 42 + " "},
    ],
)
async def test_pkce_required_and_well_formed_else_invalid_request(server, change):
    params, _ = code_request()
    for name, value in change.items():
        params = without(params, name) if value is None else {**params, name: value}
    returned = assert_client_redirect(server, await authorize(server, params), WEB_CB)
    assert returned["error"] == "invalid_request", returned
    assert returned["state"] == params["state"]


@pytest.mark.parametrize("length", [43, 128])
async def test_pkce_challenge_of_boundary_length_is_accepted(server, length):
    browser = await signed_in(server)
    params = public_request(code_challenge="aZ0-._~"[0] * (length - 7) + "aZ0-._~")
    returned = assert_client_redirect(server, await browser.get(authorize_path(params)), PUBLIC_CB)
    assert "code" in returned


async def test_plain_pkce_is_accepted_for_a_client_that_allows_it(server):
    browser = await signed_in(server)
    verifier, _ = pkce_pair()
    params = {
        "client_id": "native.plain",
        "response_type": "code",
        "redirect_uri": "https://native.example/cb",
        "scope": "openid",
        "state": "s",
        "code_challenge": verifier,
        "code_challenge_method": "plain",
    }
    returned = assert_client_redirect(server, await browser.get(authorize_path(params)), "https://native.example/cb")
    assert "code" in returned


async def test_pkce_is_optional_for_a_client_that_does_not_require_it(server):
    browser = await signed_in(server)
    params = {
        "client_id": "native.nopkce",
        "response_type": "code",
        "redirect_uri": "https://native.example/cb",
        "scope": "openid",
        "state": "s",
    }
    returned = assert_client_redirect(server, await browser.get(authorize_path(params)), "https://native.example/cb")
    assert "code" in returned


# -- prompt and max_age --------------------------------------------------------------------------------------


async def test_no_session_sends_the_user_to_the_login_page_with_a_local_return_url(server):
    params = public_request()
    response = await authorize(server, params)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert location.path == "/account/login"
    return_url = parse_qs(location.query)["returnUrl"][0]
    assert return_url.startswith("/connect/authorize/callback?")
    assert parse_qs(urlsplit(return_url).query)["client_id"] == ["public"]


async def test_prompt_none_without_a_session_is_login_required(server):
    params = public_request(prompt="none")
    returned = assert_client_redirect(server, await authorize(server, params), PUBLIC_CB)
    assert returned["error"] == "login_required" and returned["state"] == params["state"]


async def test_prompt_none_with_a_session_but_no_consent_is_consent_required(server):
    browser = await signed_in(server)
    params, _ = code_request(prompt="none")
    returned = assert_client_redirect(server, await browser.get(authorize_path(params)), WEB_CB)
    assert returned["error"] == "consent_required" and returned["state"] == params["state"]


async def test_prompt_none_with_a_session_and_remembered_consent_issues_a_code(server):
    browser = Browser(server.client)
    params, _ = code_request()
    first = await complete_authorize(browser, params)
    assert "code" in assert_client_redirect(server, first, WEB_CB)
    params, _ = code_request(prompt="none")
    returned = assert_client_redirect(server, await browser.get(authorize_path(params)), WEB_CB)
    assert "code" in returned and "error" not in returned


@pytest.mark.parametrize("prompt", ["none login", "login none", "none consent", "create login", "none create"])
async def test_prompt_none_or_create_combined_with_another_value_is_invalid_request(prompt):
    options = replace(
        IdentityServerOptions(), user_interaction=UserInteractionOptions(create_account_url="/account/create")
    )
    async with running(make_builder(options=options)) as server:
        params = public_request(prompt=prompt)
        returned = assert_client_redirect(server, await authorize(server, params), PUBLIC_CB)
        assert returned["error"] == "invalid_request"


async def test_unknown_prompt_value_is_ignored(server):
    browser = await signed_in(server)
    returned = assert_client_redirect(
        server, await browser.get(authorize_path(public_request(prompt="foo"))), PUBLIC_CB
    )
    assert "code" in returned


async def test_prompt_create_is_ignored_when_no_create_page_is_configured(server):
    browser = await signed_in(server)
    returned = assert_client_redirect(
        server, await browser.get(authorize_path(public_request(prompt="create"))), PUBLIC_CB
    )
    assert "code" in returned


async def test_prompt_login_forces_a_new_login_and_a_newer_auth_time(server):
    browser = await signed_in(server)
    first_login = int(server.clock.timestamp())
    server.clock.advance(60)
    params = public_request(prompt="login")
    page = await browser.get(authorize_path(params))
    assert is_login_page(page), page.text[:300]
    final = await browser.login(page, "alice", "alice")
    returned = assert_client_redirect(server, final, PUBLIC_CB)
    assert returned["state"] == params["state"]
    ticket = await server.services.user_session.authenticate(dict(server.client.cookies))
    assert ticket is not None and ticket.auth_time == first_login + 60


async def test_prompt_login_does_not_loop_after_the_login(server):
    browser = Browser(server.client)
    params = public_request(prompt="login")
    final = await complete_authorize(browser, params)
    assert "code" in assert_client_redirect(server, final, PUBLIC_CB)


async def test_max_age_exceeded_forces_a_login(server):
    browser = await signed_in(server)
    server.clock.advance(120)
    page = await browser.get(authorize_path(public_request(max_age="60")))
    assert is_login_page(page)
    final = await browser.login(page, "alice", "alice")
    assert "code" in assert_client_redirect(server, final, PUBLIC_CB)


async def test_max_age_not_exceeded_needs_no_login(server):
    browser = await signed_in(server)
    server.clock.advance(30)
    returned = assert_client_redirect(
        server, await browser.get(authorize_path(public_request(max_age="60"))), PUBLIC_CB
    )
    assert "code" in returned


async def test_max_age_exceeded_with_prompt_none_is_login_required(server):
    browser = await signed_in(server)
    server.clock.advance(120)
    returned = assert_client_redirect(
        server, await browser.get(authorize_path(public_request(max_age="60", prompt="none"))), PUBLIC_CB
    )
    assert returned["error"] == "login_required"


async def test_prompt_create_shows_the_create_page_and_resumes_the_request():
    options = replace(
        IdentityServerOptions(), user_interaction=UserInteractionOptions(create_account_url="/account/create")
    )
    async with running(make_builder(options=options)) as server:
        discovery = (await server.client.get("/.well-known/openid-configuration")).json()
        assert "create" in discovery["prompt_values_supported"]
        browser = Browser(server.client)
        params = public_request(prompt="create")
        page = await browser.get(authorize_path(params))
        assert page.status_code == 200
        assert urlsplit(str(page.url)).path == "/account/create"
        final = await browser.submit(
            page, {"username": "carol", "password": "correct horse", "name": "Carol", "email": "carol@example.com"}
        )
        returned = assert_client_redirect(server, final, PUBLIC_CB)
        assert "code" in returned and returned["state"] == params["state"]
        user = await server.services.users.find_by_username("carol")
        assert user is not None
        ticket = await server.services.user_session.authenticate(dict(server.client.cookies))
        assert ticket is not None and ticket.subject_id == user.subject_id


async def test_prompt_create_with_an_existing_session_still_shows_the_create_page():
    options = replace(
        IdentityServerOptions(), user_interaction=UserInteractionOptions(create_account_url="/account/create")
    )
    async with running(make_builder(options=options)) as server:
        browser = await signed_in(server)
        page = await browser.get(authorize_path(public_request(prompt="create")))
        assert page.status_code == 200 and urlsplit(str(page.url)).path == "/account/create"


async def test_prompt_consent_shows_consent_even_when_remembered(server):
    browser = Browser(server.client)
    params, _ = code_request()
    assert "code" in assert_client_redirect(server, await complete_authorize(browser, params), WEB_CB)
    params, _ = code_request(prompt="consent")
    page = await browser.get(authorize_path(params))
    assert is_consent_page(page)
    final = await browser.submit(page, {"button": "yes"})
    assert "code" in assert_client_redirect(server, final, WEB_CB)


async def test_id_token_hint_of_another_user_forces_a_login(server):
    browser = Browser(server.client)
    params = {
        "client_id": "implicit",
        "response_type": "id_token",
        "scope": "openid",
        "nonce": "n",
        "redirect_uri": "https://implicit.example/cb",
        "state": "s",
    }
    first = await complete_authorize(browser, params)
    id_token = assert_client_redirect(server, first, "https://implicit.example/cb", mode="fragment")["id_token"]
    returned = assert_client_redirect(
        server,
        await browser.get(authorize_path({**params, "prompt": "none", "id_token_hint": id_token})),
        "https://implicit.example/cb",
        mode="fragment",
    )
    assert "id_token" in returned
    forged = id_token[:-4] + ("AAAA" if not id_token.endswith("AAAA") else "BBBB")
    returned = assert_client_redirect(
        server,
        await browser.get(authorize_path({**params, "prompt": "none", "id_token_hint": forged})),
        "https://implicit.example/cb",
        mode="fragment",
    )
    assert returned["error"] == "invalid_request"


# -- request objects (JAR) ---------------------------------------------------------------------------------


def jar_claims(server: Server, **overrides) -> dict:
    _, challenge = pkce_pair()
    now = int(server.clock.timestamp())
    claims = {
        "iss": "web.jar",
        "aud": server.issuer,
        "exp": now + 300,
        "iat": now,
        "client_id": "web.jar",
        "response_type": "code",
        "redirect_uri": "https://jar.example/cb",
        "scope": "openid api1",
        "state": "from-jwt",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not ...}


async def test_request_object_signed_with_the_client_key_is_used(server):
    browser = await signed_in(server)
    request = client_assertion(RSA_CLIENT_KEY, "RS256", jar_claims(server), {"kid": "rsa1"})
    response = await browser.get(authorize_path({"client_id": "web.jar", "request": request, "state": "from-query"}))
    returned = assert_client_redirect(server, response, "https://jar.example/cb")
    assert "code" in returned
    assert returned["state"] == "from-jwt"  # claims of the request object win over query parameters


async def test_request_object_claims_need_not_repeat_query_parameters(server):
    browser = await signed_in(server)
    claims = jar_claims(server, state=...)
    request = client_assertion(RSA_CLIENT_KEY, "RS256", claims, {"kid": "rsa1"})
    response = await browser.get(authorize_path({"client_id": "web.jar", "request": request, "state": "q"}))
    returned = assert_client_redirect(server, response, "https://jar.example/cb")
    assert "code" in returned and returned["state"] == "q"


@pytest.mark.parametrize(
    "case",
    [
        "other_key",
        "alg_none",
        "bad_signature",
        "iss",
        "aud",
        "expired",
        "no_exp",
        "client_id",
        "nested_request",
        "hs256_with_public_key",
        "garbage",
    ],
)
async def test_invalid_request_object_shows_the_error_page(server, case):
    claims = jar_claims(server)
    key, alg, header = RSA_CLIENT_KEY, "RS256", {"kid": "rsa1"}
    if case == "other_key":
        key, alg, header = EC_CLIENT_KEY, "ES256", {"kid": "ec1"}
    elif case == "iss":
        claims["iss"] = "web"
    elif case == "aud":
        claims["aud"] = "https://other.example"
    elif case == "expired":
        claims["exp"] = int(server.clock.timestamp()) - 3600
    elif case == "no_exp":
        del claims["exp"]
    elif case == "client_id":
        claims["client_id"] = "web"
    elif case == "nested_request":
        claims["request_uri"] = "https://jar.example/r"
    if case == "alg_none":
        request = b64url_encode(b'{"alg":"none"}') + "." + b64url_encode(json.dumps(claims).encode()) + "."
    elif case == "bad_signature":
        request = client_assertion(key, alg, claims, header)
        request = request[:-6] + ("AAAAAA" if not request.endswith("AAAAAA") else "BBBBBB")
    elif case == "hs256_with_public_key":
        signing_input = b64url_encode(b'{"alg":"HS256"}') + "." + b64url_encode(json.dumps(claims).encode())
        mac = hmac.new(json.dumps(public_jwk(RSA_CLIENT_KEY)).encode(), signing_input.encode(), hashlib.sha256)
        request = f"{signing_input}.{b64url_encode(mac.digest())}"
    elif case == "garbage":
        request = "not.a.jwt"
    else:
        request = client_assertion(key, alg, claims, header)
    response = await authorize(
        server,
        {
            "client_id": "web.jar",
            "request": request,
            "redirect_uri": "https://jar.example/cb",
            "response_type": "code",
            "state": "s",
        },
    )
    await assert_error_page(server, response)


async def test_request_uri_is_not_supported(server):
    response = await authorize(
        server,
        {
            "client_id": "web.jar",
            "request_uri": "http://169.254.169.254/latest/",
            "redirect_uri": "https://jar.example/cb",
            "response_type": "code",
        },
    )
    text = await assert_error_page(server, response)
    assert "request_uri_not_supported" in text


# -- channel of every response: iss and state --------------------------------------------------------------


async def test_successful_code_response_carries_state_iss_and_session_state(server):
    browser = await signed_in(server)
    params = public_request()
    returned = assert_client_redirect(server, await browser.get(authorize_path(params)), PUBLIC_CB)
    assert set(returned) == {"code", "state", "iss", "session_state"}
    assert returned["state"] == params["state"]
    digest, _, salt = returned["session_state"].partition(".")
    assert digest and salt


async def test_state_is_echoed_byte_for_byte(server):
    browser = await signed_in(server)
    state = "a b+c/d=e&f%20g\u00e9\u2603"
    returned = assert_client_redirect(server, await browser.get(authorize_path(public_request(state=state))), PUBLIC_CB)
    assert returned["state"] == state


async def test_response_without_state_has_no_state_parameter(server):
    browser = await signed_in(server)
    returned = assert_client_redirect(
        server, await browser.get(authorize_path(without(public_request(), "state"))), PUBLIC_CB
    )
    assert "state" not in returned and "code" in returned


# -- implicit and hybrid: fragment, at_hash and c_hash ----------------------------------------------------


async def jwks(server: Server) -> dict:
    return (await server.client.get("/.well-known/openid-configuration/jwks")).json()


async def test_implicit_id_token_token_is_returned_in_the_fragment_with_at_hash(server):
    browser = await signed_in(server)
    params = {
        "client_id": "implicit",
        "response_type": "id_token token",
        "scope": "openid profile api1",
        "redirect_uri": "https://implicit.example/cb",
        "nonce": "n-123",
        "state": "s",
    }
    response = await browser.get(authorize_path(params))
    returned = assert_client_redirect(server, response, "https://implicit.example/cb", mode="fragment")
    assert returned["token_type"] == "Bearer" and int(returned["expires_in"]) > 0
    assert set(returned["scope"].split()) == {"openid", "profile", "api1"}
    claims = verify_jwt(returned["id_token"], await jwks(server), ["RS256"])
    header, _ = jwt_parts(returned["id_token"])
    assert claims["nonce"] == "n-123" and claims["aud"] == "implicit" and claims["sub"] == "1"
    assert claims["at_hash"] == left_half_hash(returned["access_token"], header["alg"])
    assert "c_hash" not in claims
    assert "name" not in claims  # user claims come from userinfo when an access token is issued


async def test_implicit_token_only_response_carries_an_access_token_and_needs_no_nonce(server):
    browser = await signed_in(server)
    params = {
        "client_id": "implicit",
        "response_type": "token",
        "scope": "api1",
        "redirect_uri": "https://implicit.example/cb",
        "state": "s",
    }
    returned = assert_client_redirect(
        server, await browser.get(authorize_path(params)), "https://implicit.example/cb", mode="fragment"
    )
    assert "id_token" not in returned and "code" not in returned
    assert jwt_parts(returned["access_token"])[1]["sub"] == "1"
    info = await server.client.get("/connect/userinfo", headers={"Authorization": f"Bearer {returned['access_token']}"})
    assert info.status_code == 403  # no openid scope


async def test_implicit_token_only_response_with_an_identity_scope_is_invalid_scope(server):
    params = {
        "client_id": "implicit",
        "response_type": "token",
        "scope": "openid api1",
        "redirect_uri": "https://implicit.example/cb",
        "state": "s",
    }
    returned = assert_client_redirect(
        server, await authorize(server, params), "https://implicit.example/cb", mode="fragment"
    )
    assert returned["error"] == "invalid_scope" and returned["state"] == "s"


async def test_implicit_id_token_only_carries_the_user_claims(server):
    browser = await signed_in(server)
    params = {
        "client_id": "implicit",
        "response_type": "id_token",
        "scope": "openid profile",
        "redirect_uri": "https://implicit.example/cb",
        "nonce": "n",
        "state": "s",
    }
    returned = assert_client_redirect(
        server, await browser.get(authorize_path(params)), "https://implicit.example/cb", mode="fragment"
    )
    assert "access_token" not in returned
    claims = verify_jwt(returned["id_token"], await jwks(server), ["RS256"])
    assert claims["name"] == "Alice Smith" and "at_hash" not in claims


@pytest.mark.parametrize("response_type", ["code id_token", "code token", "code id_token token"])
async def test_hybrid_response_is_in_the_fragment_with_c_hash_and_at_hash(server, response_type):
    browser = await signed_in(server)
    verifier, challenge = pkce_pair()
    params = {
        "client_id": "hybrid",
        "response_type": response_type,
        "scope": "openid api1 offline_access",
        "redirect_uri": "https://hybrid.example/cb",
        "nonce": "n",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    returned = assert_client_redirect(
        server, await browser.get(authorize_path(params)), "https://hybrid.example/cb", mode="fragment"
    )
    types = response_type.split()
    assert ("id_token" in returned) == ("id_token" in types)
    assert ("access_token" in returned) == ("token" in types)
    if "id_token" in types:
        claims = verify_jwt(returned["id_token"], await jwks(server), ["RS256"])
        alg = jwt_parts(returned["id_token"])[0]["alg"]
        assert claims["c_hash"] == left_half_hash(returned["code"], alg)
        if "token" in types:
            assert claims["at_hash"] == left_half_hash(returned["access_token"], alg)
        else:
            assert "at_hash" not in claims
    token = await server.token(
        {
            "grant_type": "authorization_code",
            "code": returned["code"],
            "redirect_uri": "https://hybrid.example/cb",
            "code_verifier": verifier,
        },
        headers=basic("hybrid", "secret"),
    )
    assert token.status_code == 200, token.text
    assert "id_token" in token.json() and "refresh_token" in token.json()


async def test_hybrid_response_type_order_does_not_matter(server):
    browser = await signed_in(server)
    _, challenge = pkce_pair()
    params = {
        "client_id": "hybrid",
        "response_type": "id_token code",
        "scope": "openid",
        "redirect_uri": "https://hybrid.example/cb",
        "nonce": "n",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    returned = assert_client_redirect(
        server, await browser.get(authorize_path(params)), "https://hybrid.example/cb", mode="fragment"
    )
    assert "code" in returned and "id_token" in returned


async def test_emit_state_hash_adds_s_hash_to_the_front_channel_id_token():
    options = replace(IdentityServerOptions(), emit_state_hash=True)
    async with running(make_builder(options=options)) as server:
        browser = await signed_in(server)
        params = {
            "client_id": "implicit",
            "response_type": "id_token",
            "scope": "openid",
            "redirect_uri": "https://implicit.example/cb",
            "nonce": "n",
            "state": "my-state",
        }
        returned = assert_client_redirect(
            server, await browser.get(authorize_path(params)), "https://implicit.example/cb", mode="fragment"
        )
        claims = verify_jwt(returned["id_token"], await jwks(server), ["RS256"])
        assert claims["s_hash"] == left_half_hash("my-state", jwt_parts(returned["id_token"])[0]["alg"])


# -- HTTP methods ---------------------------------------------------------------------------------------------


async def test_post_with_a_form_body_behaves_like_get(server):
    browser = await signed_in(server)
    params = public_request()
    response = await browser.client.post("/connect/authorize", data=params)
    returned = assert_client_redirect(server, response, PUBLIC_CB)
    assert "code" in returned and returned["state"] == params["state"]


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", json.dumps({"client_id": "public"})),
        ("text/plain", "client_id=public"),
        ("multipart/form-data; boundary=x", "--x--"),
    ],
)
async def test_post_with_a_non_form_body_is_415(server, content_type, body):
    response = await server.client.post("/connect/authorize", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 415


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_are_405(server, method):
    response = await server.client.request(method, authorize_path(public_request()))
    assert response.status_code == 405


async def test_callback_accepts_only_get(server):
    response = await server.client.post("/connect/authorize/callback", data=public_request())
    assert response.status_code == 405


async def test_undecodable_query_is_a_400_not_a_500(server):
    response = await server.client.get("/connect/authorize?client_id=%ff%fe&redirect_uri=x")
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        await assert_error_page(server, response)


# -- the resume URL (returnUrl) is re-validated ----------------------------------------------------------


async def login_return_url(server: Server, params: dict[str, str]) -> str:
    response = await authorize(server, params)
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["location"]).query)["returnUrl"][0]


def tampered(return_url: str, **changes: str) -> str:
    parts = urlsplit(return_url)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    query.update(changes)
    return f"{parts.path}?{urlencode(query)}"


async def test_tampered_return_url_with_another_redirect_uri_shows_the_error_page(server):
    params, _ = code_request()
    return_url = await login_return_url(server, params)
    browser = await signed_in(server)
    response = await browser.client.get(tampered(return_url, redirect_uri="https://evil.example/cb"))
    await assert_error_page(server, response)


async def test_tampered_return_url_cannot_skip_consent_for_more_scopes(server):
    browser = Browser(server.client)
    params, _ = code_request(scope="openid")
    page = await browser.get(authorize_path(params))
    page = await browser.login(page, "alice", "alice")
    assert is_consent_page(page)
    resumed = await browser.client.post(
        str(page.url).split("?")[0],
        data=dict(forms(page.text)[0].fields) | {"button": "yes", "scopes_consented": "openid"},
    )
    assert resumed.status_code == 302
    callback = resumed.headers["location"]
    assert "consent_response=" in callback
    widened = tampered(callback, scope="openid profile api1 api2")
    response = await browser.client.get(widened)
    assert response.status_code == 302
    assert urlsplit(response.headers["location"]).path == "/consent"  # asked again, not silently granted


async def test_consent_response_of_one_user_is_not_accepted_for_another(server):
    browser = Browser(server.client)
    params, _ = code_request(scope="openid")
    page = await browser.get(authorize_path(params))
    page = await browser.login(page, "alice", "alice")
    assert is_consent_page(page)
    resumed = await browser.client.post(
        "/consent", data=dict(forms(page.text)[0].fields) | {"button": "yes", "scopes_consented": "openid"}
    )
    callback = resumed.headers["location"]
    other = httpx.AsyncClient(transport=server.client._transport, base_url=server.client.base_url)
    async with other:
        response = await other.get(callback)
        assert response.status_code == 302
        assert urlsplit(response.headers["location"]).path == "/account/login"


async def test_suppressed_prompt_sent_by_the_client_is_ignored(server):
    browser = await signed_in(server)
    params = public_request(prompt="login", suppressed_prompt="login")
    page = await browser.get(authorize_path(params))
    assert is_login_page(page)


# -- sessions, lifetimes and hints ---------------------------------------------------------------------------

LIFETIME_TOML = """
[options.authentication]
cookie_lifetime = 3600

[[clients]]
client_id = "sso.short"
require_client_secret = false
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://app.example/cb"]
allowed_scopes = ["openid", "api1"]
user_sso_lifetime = 600

[[clients]]
client_id = "consent.short"
require_client_secret = false
require_consent = true
consent_lifetime = 600
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://app.example/cb"]
allowed_scopes = ["openid", "api1"]

[[clients]]
client_id = "consent.always"
require_client_secret = false
require_consent = true
allow_remember_consent = false
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://app.example/cb"]
allowed_scopes = ["openid", "api1"]
"""


@pytest.fixture
async def lifetimes() -> AsyncIterator[Server]:
    async with running(make_builder(configuration_with(LIFETIME_TOML))) as server:
        yield server


async def test_expired_session_needs_a_new_login(lifetimes):
    browser = await signed_in(lifetimes)
    lifetimes.clock.advance(3601)
    returned = assert_client_redirect(
        lifetimes, await browser.get(authorize_path(public_request(prompt="none"))), PUBLIC_CB
    )
    assert returned["error"] == "login_required"


async def test_client_user_sso_lifetime_forces_a_login_for_that_client_only(lifetimes):
    browser = await signed_in(lifetimes)
    lifetimes.clock.advance(601)
    params, _ = code_request("sso.short", PUBLIC_CB, "openid api1", prompt="none")
    returned = assert_client_redirect(lifetimes, await browser.get(authorize_path(params)), PUBLIC_CB)
    assert returned["error"] == "login_required"
    returned = assert_client_redirect(
        lifetimes, await browser.get(authorize_path(public_request(prompt="none"))), PUBLIC_CB
    )
    assert "code" in returned


async def test_remembered_consent_expires_after_the_client_consent_lifetime(lifetimes):
    browser = Browser(lifetimes.client)
    params, _ = code_request("consent.short", PUBLIC_CB, "openid api1")
    assert "code" in assert_client_redirect(lifetimes, await complete_authorize(browser, params), PUBLIC_CB)
    params, _ = code_request("consent.short", PUBLIC_CB, "openid api1", prompt="none")
    assert "code" in assert_client_redirect(lifetimes, await browser.get(authorize_path(params)), PUBLIC_CB)
    lifetimes.clock.advance(601)
    returned = assert_client_redirect(lifetimes, await browser.get(authorize_path(params)), PUBLIC_CB)
    assert returned["error"] == "consent_required"


async def test_client_that_may_not_remember_consent_asks_every_time(lifetimes):
    browser = Browser(lifetimes.client)
    params, _ = code_request("consent.always", PUBLIC_CB, "openid api1")
    assert "code" in assert_client_redirect(lifetimes, await complete_authorize(browser, params), PUBLIC_CB)
    params, _ = code_request("consent.always", PUBLIC_CB, "openid api1")
    assert is_consent_page(await browser.get(authorize_path(params)))


async def test_prompt_select_account_shows_the_login_page(server):
    browser = await signed_in(server)
    page = await browser.get(authorize_path(public_request(prompt="select_account")))
    assert is_login_page(page)


async def test_id_token_hint_of_another_user_with_prompt_none_is_login_required(server):
    browser = Browser(server.client)
    params = {
        "client_id": "implicit",
        "response_type": "id_token",
        "scope": "openid",
        "nonce": "n",
        "redirect_uri": "https://implicit.example/cb",
        "state": "s",
    }
    first = await complete_authorize(browser, params)
    id_token = assert_client_redirect(server, first, "https://implicit.example/cb", mode="fragment")["id_token"]
    users = server.services.users
    await users.auto_provision_user("bob", "bob-password-1", [])
    await sign_in(browser, "bob", "bob-password-1")
    returned = assert_client_redirect(
        server,
        await browser.get(authorize_path({**params, "prompt": "none", "id_token_hint": id_token})),
        "https://implicit.example/cb",
        mode="fragment",
    )
    assert returned["error"] == "login_required"


async def test_request_object_with_another_response_type_than_the_query_is_refused(server):
    request = client_assertion(RSA_CLIENT_KEY, "RS256", jar_claims(server), {"kid": "rsa1"})
    response = await authorize(
        server,
        {
            "client_id": "web.jar",
            "request": request,
            "response_type": "id_token",
            "redirect_uri": "https://jar.example/cb",
        },
    )
    await assert_error_page(server, response)


async def test_strict_jar_validation_requires_the_request_object_type():
    options = replace(IdentityServerOptions(), strict_jar_validation=True)
    async with running(make_builder(options=options)) as server:
        browser = await signed_in(server)
        untyped = client_assertion(RSA_CLIENT_KEY, "RS256", jar_claims(server), {"kid": "rsa1"})
        await assert_error_page(server, await browser.get(authorize_path({"client_id": "web.jar", "request": untyped})))
        typed = client_assertion(
            RSA_CLIENT_KEY, "RS256", jar_claims(server), {"kid": "rsa1", "typ": "oauth-authz-req+jwt"}
        )
        returned = assert_client_redirect(
            server,
            await browser.get(authorize_path({"client_id": "web.jar", "request": typed})),
            "https://jar.example/cb",
        )
        assert "code" in returned


async def test_request_object_that_is_not_yet_valid_is_refused(server):
    claims = jar_claims(server, nbf=int(server.clock.timestamp()) + 3600)
    request = client_assertion(RSA_CLIENT_KEY, "RS256", claims, {"kid": "rsa1"})
    await assert_error_page(server, await authorize(server, {"client_id": "web.jar", "request": request}))


async def test_request_object_can_carry_the_redirect_uri_which_is_then_validated(server):
    claims = jar_claims(server, redirect_uri="https://evil.example/cb")
    request = client_assertion(RSA_CLIENT_KEY, "RS256", claims, {"kid": "rsa1"})
    response = await authorize(
        server, {"client_id": "web.jar", "request": request, "redirect_uri": "https://jar.example/cb"}
    )
    await assert_error_page(server, response)


async def test_under_a_sub_path_the_whole_flow_stays_under_it():
    builder = make_builder(issuer=None)
    builder.options = replace(builder.options, allowed_hosts=("idp.example",))
    async with running(builder, base_url="https://idp.example/identity") as server:
        server.client._transport.root_path = "/identity"
        browser = Browser(server.client)
        response = await server.client.get(authorize_path(public_request()))
        assert response.status_code == 302
        login = urlsplit(response.headers["location"])
        assert login.path == "/identity/account/login"
        assert parse_qs(login.query)["returnUrl"][0].startswith("/identity/connect/authorize/callback?")
        page = await browser.follow(response)
        assert forms(page.text)[0].action == "/identity/account/login"
        final = await browser.login(page, "alice", "alice")
        returned = assert_client_redirect(server, final, PUBLIC_CB)
        assert server.issuer == "https://idp.example/identity" and "code" in returned
