"""JWT Secured Authorization Response Mode (JARM §2.1, §2.3, §4.1): the authorization response, success and
error, as one signed ``response`` JWT with ``iss``, ``aud`` and a short ``exp``, in the four ``*.jwt`` modes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from identityserver.crypto.jwt import decode_jws
from tests.fapi.conftest import JARM_CB
from tests.support.browser import Browser, code_request, complete_authorize, forms, sign_in
from tests.support.client_auth import verify_jwt
from tests.support.server import Server, basic


async def jwks(server: Server) -> dict:
    return (await server.client.get("/.well-known/openid-configuration/jwks")).json()


def response_jwt(response: httpx.Response, part: str) -> str:
    """The ``response`` parameter, the only one, from the redirect's query or fragment."""
    assert response.status_code == 302, response.text[:300]
    location = response.headers["location"]
    assert location.startswith(JARM_CB), location
    raw = getattr(urlsplit(location), part)
    params = parse_qs(raw)
    assert set(params) == {"response"}, location
    return params["response"][0]


async def signed_in(server: Server) -> Browser:
    browser = Browser(server.client)
    await sign_in(browser)
    return browser


async def test_jwt_mode_of_the_code_flow_is_a_signed_query_response_that_redeems(fapi_server):
    server = fapi_server
    params, verifier = code_request("jarm", JARM_CB, "openid api1", response_mode="jwt")
    final = await complete_authorize(Browser(server.client), params)
    token = response_jwt(final, "query")  # JARM §2.3.4: jwt means query.jwt for response_type code
    header = decode_jws(token).header
    assert header["alg"] == "ES256" and header["kid"]  # the client's authorization_signed_response_alg
    claims = verify_jwt(token, await jwks(server), ["ES256"])
    now = int(server.clock.timestamp())
    assert claims["iss"] == server.issuer and claims["aud"] == "jarm"
    assert now < claims["exp"] <= now + 60
    assert claims["state"] == params["state"] and claims["code"]
    redeemed = await server.token(
        {
            "grant_type": "authorization_code",
            "code": claims["code"],
            "redirect_uri": JARM_CB,
            "code_verifier": verifier,
        },
        headers=basic("jarm", "secret"),
    )
    assert redeemed.status_code == 200, redeemed.text


async def test_response_jwt_expires(fapi_server):
    server = fapi_server
    params, _ = code_request("jarm", JARM_CB, "openid api1", response_mode="query.jwt")
    claims = decode_jws(response_jwt(await complete_authorize(Browser(server.client), params), "query")).payload
    assert claims["exp"] - claims["iat"] == 60


async def test_fragment_jwt_mode_puts_the_response_in_the_fragment(fapi_server):
    server = fapi_server
    params, _ = code_request("jarm", JARM_CB, "openid api1", response_mode="fragment.jwt")
    token = response_jwt(await complete_authorize(Browser(server.client), params), "fragment")
    assert verify_jwt(token, await jwks(server), ["ES256"])["state"] == params["state"]


async def test_form_post_jwt_mode_posts_only_the_response(fapi_server):
    server = fapi_server
    params, _ = code_request("jarm", JARM_CB, "openid api1", response_mode="form_post.jwt")
    page = await complete_authorize(Browser(server.client), params)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    (form,) = forms(page.text)
    assert form.action == JARM_CB and form.method == "post"
    assert [name for name, _ in form.fields] == ["response"]
    claims = verify_jwt(form.fields[0][1], await jwks(server), ["ES256"])
    assert claims["code"] and claims["aud"] == "jarm"


async def test_jwt_mode_of_a_hybrid_response_is_fragment_jwt_signed_with_the_default_algorithm(fapi_server):
    server = fapi_server
    browser = await signed_in(server)
    params, _ = code_request("jarm.default", JARM_CB, "openid", response_type="code id_token", response_mode="jwt")
    final = await browser.get("/connect/authorize?" + urlencode(params))
    token = response_jwt(final, "fragment")  # JARM §2.3.4: fragment.jwt for response types with tokens
    assert decode_jws(token).alg == "RS256"  # no client setting: the server's default algorithm
    claims = verify_jwt(token, await jwks(server), ["RS256"])
    assert claims["code"] and claims["id_token"] and claims["aud"] == "jarm.default"


async def test_error_responses_are_signed_too(fapi_server):
    server = fapi_server
    params, _ = code_request("jarm", JARM_CB, "openid api9", response_mode="jwt")
    final = await server.client.get("/connect/authorize?" + urlencode(params))
    claims = verify_jwt(response_jwt(final, "query"), await jwks(server), ["ES256"])
    assert claims["error"] == "invalid_scope" and claims["state"] == params["state"]
    assert claims["iss"] == server.issuer and claims["aud"] == "jarm"


async def test_prompt_none_without_a_session_is_a_signed_login_required(fapi_server):
    server = fapi_server
    params, _ = code_request("jarm", JARM_CB, "openid api1", response_mode="jwt", prompt="none")
    final = await server.client.get("/connect/authorize?" + urlencode(params))
    claims = verify_jwt(response_jwt(final, "query"), await jwks(server), ["ES256"])
    assert claims["error"] == "login_required"


async def test_query_jwt_is_refused_for_responses_with_tokens(fapi_server):
    """JARM §2.3.1: query.jwt must not carry tokens (unencrypted); the error goes by the default fragment."""
    server = fapi_server
    params, _ = code_request(
        "jarm.default", JARM_CB, "openid", response_type="code id_token", response_mode="query.jwt"
    )
    final = await server.client.get("/connect/authorize?" + urlencode(params))
    location = final.headers["location"]
    assert location.startswith(JARM_CB + "#")
    assert parse_qs(urlsplit(location).fragment)["error"] == ["invalid_request"]


@pytest.mark.parametrize("mode", ["jwt.query", "web_message.jwt", "JWT"])
async def test_unknown_jwt_like_modes_are_unsupported(fapi_server, mode):
    server = fapi_server
    params, _ = code_request("jarm", JARM_CB, "openid api1", response_mode=mode)
    final = await server.client.get("/connect/authorize?" + urlencode(params))
    assert parse_qs(urlsplit(final.headers["location"]).query)["error"] == ["unsupported_response_type"]


async def test_errors_before_the_redirect_uri_is_validated_are_never_sent_to_it(fapi_server):
    server = fapi_server
    params, _ = code_request("jarm", "https://evil.example/cb", "openid api1", response_mode="jwt")
    page = await Browser(server.client).get("/connect/authorize?" + urlencode(params))
    assert page.status_code == 400 and page.url.path == "/home/error"


async def test_discovery_lists_the_jarm_modes_and_algorithms(fapi_server):
    document = (await fapi_server.client.get("/.well-known/openid-configuration")).json()
    assert {"jwt", "query.jwt", "fragment.jwt", "form_post.jwt"} <= set(document["response_modes_supported"])
    assert document["authorization_signing_alg_values_supported"] == ["RS256", "ES256"]
