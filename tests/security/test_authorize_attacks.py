"""security.md §1.1, the authorize endpoint: the cases tests/endpoints/test_authorize.py does not already cover
(authority tricks with several ``@`` and look-alike hosts, loopback redirect URIs, request-object edge cases,
Host and X-Forwarded-* spoofing, the discovery flag of RFC 9207, and inputs that used to raise)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from identityserver._utils.b64 import b64url_encode
from identityserver.options import DynamicClientRegistrationOptions
from tests.security.support import (
    assert_client_redirect,
    assert_error_page,
    server_with,
)
from tests.support.browser import Browser, authorize_path, code_request, pkce_pair, sign_in
from tests.support.client_auth import client_assertion, jwt_parts, raw_jws
from tests.support.data import RSA_CLIENT_KEY
from tests.support.server import Server, basic

PUBLIC_CB = "https://app.example/cb"

LOOPBACK_TOML = """
[[clients]]
client_id = "native.loopback"
require_client_secret = false
allowed_grant_types = ["authorization_code"]
redirect_uris = ["http://127.0.0.1/cb", "http://[::1]/cb"]
allowed_scopes = ["openid", "api1"]
"""


@pytest.fixture
async def server():
    async with server_with(LOOPBACK_TOML) as srv:
        yield srv


async def signed_in(server: Server) -> Browser:
    browser = Browser(server.client)
    page = await sign_in(browser)
    assert page.status_code == 200, page.text
    return browser


# -- item 5: authority tricks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://a@b@web.example/cb",
        "https://web.example@evil.example@web.example/cb",
        "https://web.example:@evil.example/cb",
        "https://web.example%2F@evil.example/cb",
        "https://w\u0435b.example/cb",  # Cyrillic small ie: an IDN homograph of web.example
        "https://xn--wb-ulc.example/cb",
        "https://web.example%00.evil.example/cb",
        "https://web.example\t/cb",
        "https://web.example//cb",
        "https://web.example/./cb",
        "https://web.example/%63b",
        "https://web.example/cb?",
        "https://web.example/cb#",
        "https://web.example/cb%00",
    ],
)
async def test_redirect_uri_with_several_at_signs_look_alike_hosts_or_equivalent_paths_shows_the_error_page(
    server, redirect_uri
):
    params, _ = code_request(redirect_uri=redirect_uri)
    response = await server.client.get(authorize_path(params))
    await assert_error_page(server, response)


# -- item 6: loopback redirect URIs ---------------------------------------------------------------------------------


def loopback_request(redirect_uri: str) -> dict[str, str]:
    _, challenge = pkce_pair()
    return {
        "client_id": "native.loopback",
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": "openid api1",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


@pytest.mark.parametrize("redirect_uri", ["http://127.0.0.1/cb", "http://[::1]/cb"])
async def test_registered_loopback_redirect_uri_receives_the_code(server, redirect_uri):
    browser = await signed_in(server)
    returned = assert_client_redirect(
        server, await browser.get(authorize_path(loopback_request(redirect_uri))), redirect_uri
    )
    assert "code" in returned


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://localhost.evil.example:1234/cb",
        "http://127.0.0.1.nip.io/cb",
        "http://127.0.0.1:1234/other",
        "http://127.0.0.1/cb/../other",
        "http://127.0.0.1@evil.example/cb",
        "http://evil.example#@127.0.0.1/cb",
        "http://localhost/cb",
        "http://127.0.0.2/cb",
        "http://127.1/cb",
        "http://2130706433/cb",
        "http://0x7f000001/cb",
        "https://127.0.0.1/cb",
        "http://[::ffff:127.0.0.1]/cb",
    ],
)
async def test_loopback_look_alikes_show_the_error_page(server, redirect_uri):
    response = await server.client.get(authorize_path(loopback_request(redirect_uri)))
    await assert_error_page(server, response)


async def test_web_client_gets_no_port_relaxation(server):
    params, _ = code_request(redirect_uri="https://web.example:8443/cb")
    await assert_error_page(server, await server.client.get(authorize_path(params)))


# -- item 7: redirect_uri omitted while two are registered ---------------------------------------------------------


async def test_omitted_redirect_uri_of_a_client_with_two_registered_uris_shows_the_error_page(server):
    await signed_in(server)
    params = {"client_id": "native.nopkce", "response_type": "code", "scope": "openid", "state": "s"}
    await assert_error_page(server, await server.client.get(authorize_path(params)))


# -- item 16: max_age --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_age", ["²", "¹²", "١٢"])
async def test_max_age_made_of_superscript_digits_is_invalid_request_not_a_server_error(server, max_age):
    """OIDC Core §3.1.2.1: max_age is an integer; digits for which str.isdigit() holds but int() fails gave 500."""
    await signed_in(server)
    params, _ = code_request("public", PUBLIC_CB, "openid api1", max_age=max_age)
    returned = assert_client_redirect(server, await server.client.get(authorize_path(params)), PUBLIC_CB)
    assert returned["error"] == "invalid_request"
    assert returned["state"] == params["state"]


# -- item 19: oversized inputs ---------------------------------------------------------------------------------


async def test_sixteen_kilobyte_authorize_url_is_not_a_server_error_nor_a_truncated_echo(server):
    browser = await signed_in(server)
    state = "s" * 2000
    params, _ = code_request("public", PUBLIC_CB, "openid api1", state=state, padding="p" * 14_000)
    assert len(authorize_path(params)) > 16_000
    response = await browser.get(authorize_path(params))
    assert response.status_code in (302, 400, 414), response.status_code
    if response.status_code == 302 and response.headers["location"].startswith(PUBLIC_CB):
        assert assert_client_redirect(server, response, PUBLIC_CB)["state"] == state


async def test_state_one_character_over_the_limit_is_refused_without_echo(server):
    params, _ = code_request(state="s" * 2001)
    response = await server.client.get(authorize_path(params))
    returned = assert_client_redirect(server, response, "https://web.example/cb")
    assert returned["error"] == "invalid_request" and "state" not in returned


# -- item 20: request objects --------------------------------------------------------------------------------------


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
    return claims


def jar_query(request: str, **extra: str) -> dict[str, str]:
    return {
        "client_id": "web.jar",
        "request": request,
        "redirect_uri": "https://jar.example/cb",
        "response_type": "code",
        "state": "s",
        **extra,
    }


async def test_request_object_and_request_uri_together_are_refused(server):
    request = client_assertion(RSA_CLIENT_KEY, "RS256", jar_claims(server), {"kid": "rsa1"})
    response = await server.client.get(authorize_path(jar_query(request, request_uri="https://jar.example/r")))
    await assert_error_page(server, response)


@pytest.mark.parametrize(
    "exp",
    ['"1700000000"', "true", "1e400", "-1", "9" * 5000, "[1]", "null"],
)
async def test_request_object_with_a_malformed_exp_is_refused(server, exp):
    claims = jar_claims(server)
    del claims["exp"]
    payload = json.dumps(claims)[:-1] + f', "exp": {exp}}}'
    request = raw_jws(json.dumps({"alg": "RS256", "kid": "rsa1"}), payload, RSA_CLIENT_KEY, "RS256")
    await assert_error_page(server, await server.client.get(authorize_path(jar_query(request))))


async def test_request_object_with_a_duplicated_exp_is_refused(server):
    claims = jar_claims(server)
    payload = json.dumps(claims)[:-1] + ', "exp": 1}'
    request = raw_jws(json.dumps({"alg": "RS256", "kid": "rsa1"}), payload, RSA_CLIENT_KEY, "RS256")
    await assert_error_page(server, await server.client.get(authorize_path(jar_query(request))))


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "RSA-OAEP", "enc": "A256GCM"},
        {"alg": "dir", "enc": "A128CBC-HS256", "zip": "DEF"},
        {"alg": "RSA1_5", "enc": "A128GCM"},
    ],
)
async def test_encrypted_request_object_is_refused(server, header):
    """RFC 9101 §6.1 and security.md item 20, 83: a JWE (five segments, raw JSON or compressed plaintext) is not
    a signed request object."""
    parts = [
        b64url_encode(json.dumps(header).encode()),
        b64url_encode(b"k" * 32),
        b64url_encode(b"i" * 12),
        b64url_encode(json.dumps(jar_claims(server)).encode()),
        b64url_encode(b"t" * 16),
    ]
    await assert_error_page(server, await server.client.get(authorize_path(jar_query(".".join(parts)))))


async def test_request_object_cannot_carry_another_clients_id_in_iss_and_client_id(server):
    claims = jar_claims(server, iss="web", client_id="web")
    request = client_assertion(RSA_CLIENT_KEY, "RS256", claims, {"kid": "rsa1"})
    await assert_error_page(server, await server.client.get(authorize_path(jar_query(request))))


async def test_request_object_cannot_move_the_redirect_uri_to_an_unregistered_one(server):
    await signed_in(server)
    request = client_assertion(
        RSA_CLIENT_KEY, "RS256", jar_claims(server, redirect_uri="https://evil.example/cb"), {"kid": "rsa1"}
    )
    await assert_error_page(server, await server.client.get(authorize_path(jar_query(request))))


# -- item 22: the iss response parameter is advertised ----------------------------------------------------------


async def test_discovery_advertises_the_iss_authorization_response_parameter(server):
    doc = (await server.client.get("/.well-known/openid-configuration")).json()
    assert doc["authorization_response_iss_parameter_supported"] is True


# -- item 24: Host and X-Forwarded-* spoofing ----------------------------------------------------------------------

SPOOFED = {
    "Host": "evil.example",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "http",
    "Forwarded": "host=evil.example;proto=http",
}


async def test_spoofed_host_headers_change_neither_iss_nor_the_login_redirect(server):
    params, _ = code_request("public", PUBLIC_CB, "openid api1")
    login = await server.client.get(authorize_path(params), headers=SPOOFED)
    assert login.status_code == 302
    assert login.headers["location"].startswith("/account/login?"), login.headers["location"]
    assert "evil" not in login.headers["location"]
    browser = await signed_in(server)
    response = await browser.client.get(authorize_path(params), headers=SPOOFED)
    returned = assert_client_redirect(server, response, PUBLIC_CB)
    assert returned["iss"] == "https://idp.example"


async def test_spoofed_host_headers_do_not_change_the_issuer_of_tokens_or_discovery(server):
    token = await server.client.post(
        "/connect/token",
        data={"grant_type": "client_credentials", "scope": "api1"},
        headers={**basic("m2m", "secret"), **SPOOFED},
    )
    assert token.status_code == 200, token.text
    assert jwt_parts(token.json()["access_token"])[1]["iss"] == "https://idp.example"
    doc = (await server.client.get("/.well-known/openid-configuration", headers=SPOOFED)).json()
    assert "evil" not in json.dumps(doc)


async def test_forwarded_headers_are_ignored_when_the_issuer_comes_from_the_request():
    async with server_with(issuer_uri=None, allowed_hosts=("idp.internal",)) as server:
        headers = {
            "Host": "idp.internal",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Proto": "http",
            "Forwarded": "host=evil.example",
        }
        doc = (await server.client.get("/.well-known/openid-configuration", headers=headers)).json()
    assert doc["issuer"] == "https://idp.internal"
    assert "evil" not in json.dumps(doc)


# -- emit_state_hash with a state outside ASCII --------------------------------------------------------------------


async def test_non_ascii_state_with_state_hashing_on_is_not_a_server_error():
    """s_hash over a state outside ASCII once raised UnicodeEncodeError (500)."""
    async with server_with(emit_state_hash=True) as server:
        await sign_in(Browser(server.client))
        params, _ = code_request("public", PUBLIC_CB, "openid api1", state="caf\u00e9")
        response = await server.client.get(authorize_path(params))
        returned = assert_client_redirect(server, response, PUBLIC_CB)
    assert returned["state"] == "caf\u00e9" and "code" in returned


async def test_query_with_a_form_feed_or_nul_in_the_client_id_shows_the_error_page(server):
    for client_id in ("web\x00", "web\x0c", "we%b", "web' OR '1'='1"):
        params, _ = code_request(client_id)
        response = await server.client.get("/connect/authorize?" + urlencode(params))
        await assert_error_page(server, response)


# -- item 21: request_uri is never fetched ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_uri",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:6379/",
        "file:///etc/passwd",
        "https://attacker.example/huge",
        "",
    ],
)
async def test_every_request_uri_is_refused_without_being_fetched(server, request_uri):
    params, _ = code_request("web.jar", "https://jar.example/cb", "openid api1", request_uri=request_uri)
    text = await assert_error_page(server, await server.client.get(authorize_path(params)))
    assert "request_uri_not_supported" in text


# -- item 13: errors for untrusted (dynamically registered) clients ---------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"scope": "openid bogus"},
        {"response_type": "token"},
        {"code_challenge_method": "plain"},
        {"max_age": "-1"},
        {"nonce": "n" * 301},
    ],
)
async def test_errors_for_a_dynamically_registered_client_are_not_redirected_without_interaction(extra):
    """RFC 9700 §4.11.2/§4.18: request errors of an untrusted (self-registered) client go to the error page, never
    automatically to its redirect URI (open redirector)."""
    async with server_with(dynamic_client_registration=DynamicClientRegistrationOptions(enabled=True)) as server:
        registered = await server.client.post(
            "/connect/register",
            json={
                "redirect_uris": ["https://evil.example/cb"],
                "scope": "openid",
                "token_endpoint_auth_method": "none",
            },
        )
        client_id = registered.json()["client_id"]
        params, _ = code_request(client_id, "https://evil.example/cb", **{"scope": "openid", **extra})
        response = await server.client.get(authorize_path(params))
    assert not response.headers.get("location", "").startswith("https://evil.example")
