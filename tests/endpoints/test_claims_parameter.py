"""The ``claims`` request parameter (OIDC Core §5.5, §5.5.1, §5.5.1.1; docs/claims-parameter.md) over HTTP: the
individual claims reach the ID token or userinfo as targeted, within what the client's scopes allow, through the
code (memory store), refresh tokens, reference tokens, implicit ID tokens and signed request objects; malformed
requests are ``invalid_request``."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.browser import (
    Browser,
    authorize_path,
    code_request,
    complete_authorize,
    is_consent_page,
    obtain_code,
    pkce_pair,
    redeem,
    redirect_parameters,
    refresh,
    sign_in,
)
from tests.support.client_auth import client_assertion, jwt_parts
from tests.support.data import RSA_CLIENT_KEY, _jwk
from tests.support.data import test_configuration as configuration_with
from tests.support.server import Server, make_builder, running

CLIENTS = """
[[clients]]
client_id = "claims.web"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://claims.example/cb"]
allowed_scopes = ["openid", "profile", "email", "api1"]
allow_offline_access = true

[[clients]]
client_id = "claims.reference"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://claims.example/cb"]
allowed_scopes = ["openid", "email", "api1"]
access_token_type = "reference"

[[clients]]
client_id = "claims.narrow"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://claims.example/cb"]
allowed_scopes = ["openid", "profile", "api1"]

[[clients]]
client_id = "claims.consent"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://claims.example/cb"]
allowed_scopes = ["openid", "profile", "email", "api1"]
require_consent = true
allow_remember_consent = true

[[clients]]
client_id = "claims.implicit"
require_client_secret = false
allowed_grant_types = ["implicit"]
redirect_uris = ["https://claims.example/cb"]
allowed_scopes = ["openid", "email"]

[[clients]]
client_id = "claims.jar"
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://claims.example/cb"]
allowed_scopes = ["openid", "email", "profile"]
client_secrets = ["secret", { type = "JWK", value = '%(jwk)s' }]

[[clients]]
client_id = "claims.jar.only"
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://claims.example/cb"]
allowed_scopes = ["openid", "email", "profile"]
require_request_object = true
client_secrets = ["secret", { type = "JWK", value = '%(jwk)s' }]
"""
CALLBACK = "https://claims.example/cb"
EMAIL = {"id_token": {"email": {"essential": True}}}


def client_toml() -> str:
    return CLIENTS % {"jwk": _jwk(RSA_CLIENT_KEY, "rsa1")}


@pytest.fixture
async def server():
    async with running(make_builder(configuration_with(client_toml()))) as srv:
        yield srv


def claims(value: dict) -> str:
    return json.dumps(value)


async def code_tokens(server: Server, client_id: str = "claims.web", scope: str = "openid", **extra: str) -> dict:
    grant = await obtain_code(server.client, client_id, CALLBACK, scope, **extra)
    response = await redeem(server.client, grant)
    assert response.status_code == 200, response.text
    return response.json()


async def userinfo(server: Server, access_token: str) -> dict:
    response = await server.client.get("/connect/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.text
    return response.json()


async def authorize_error(server: Server, **params: str) -> dict[str, str]:
    """Send an authorize request with a signed-in user; the error redirected to the client."""
    browser = Browser(server.client)
    await sign_in(browser)
    request, _ = code_request("claims.web", CALLBACK, "openid", **params)
    response = await browser.get(authorize_path(request))
    assert response.status_code == 302 and response.headers["location"].startswith(CALLBACK), response.text[:300]
    returned = redirect_parameters(response)
    assert returned["state"] == request["state"]
    return returned


async def test_discovery_says_the_claims_parameter_is_supported(server):
    doc = (await server.client.get("/.well-known/openid-configuration")).json()
    assert doc["claims_parameter_supported"] is True


# -- honoured within what the client may receive ---------------------------------------------------------------------


async def test_an_essential_id_token_claim_with_scope_openid_alone_is_returned(server):
    body = await code_tokens(server, claims=claims(EMAIL))
    id_token = jwt_parts(body["id_token"])[1]
    assert id_token["email"] == "alice@example.com"
    assert "name" not in id_token and "email_verified" not in id_token
    assert await userinfo(server, body["access_token"]) == {"sub": "1"}  # targeted at the ID token only


async def test_without_the_claims_parameter_scope_openid_returns_no_user_claims(server):
    body = await code_tokens(server)
    assert "email" not in jwt_parts(body["id_token"])[1]


async def test_userinfo_claims_go_to_userinfo_and_not_into_the_id_token(server):
    requested = {"userinfo": {"email": None, "name": {"essential": False}}}
    body = await code_tokens(server, scope="openid api1", claims=claims(requested))
    assert await userinfo(server, body["access_token"]) == {
        "sub": "1",
        "email": "alice@example.com",
        "name": "Alice Smith",
    }
    id_token = jwt_parts(body["id_token"])[1]
    assert "email" not in id_token and "name" not in id_token


async def test_id_token_and_userinfo_members_are_targeted_independently(server):
    requested = {"id_token": {"name": None}, "userinfo": {"email": None}}
    body = await code_tokens(server, claims=claims(requested))
    id_token = jwt_parts(body["id_token"])[1]
    assert id_token["name"] == "Alice Smith" and "email" not in id_token
    assert await userinfo(server, body["access_token"]) == {"sub": "1", "email": "alice@example.com"}


async def test_claims_outside_the_clients_scopes_are_not_returned(server):
    requested = {"id_token": {"email": {"essential": True}, "salary": None, "name": None}, "userinfo": {"email": None}}
    body = await code_tokens(server, "claims.narrow", claims=claims(requested))
    id_token = jwt_parts(body["id_token"])[1]
    assert "email" not in id_token and "salary" not in id_token
    assert id_token["name"] == "Alice Smith"  # profile is among the client's allowed scopes
    assert await userinfo(server, body["access_token"]) == {"sub": "1"}


async def test_requested_claims_add_to_those_of_the_granted_scopes(server):
    body = await code_tokens(server, scope="openid profile", claims=claims({"userinfo": {"email": None}}))
    info = await userinfo(server, body["access_token"])
    assert info["name"] == "Alice Smith" and info["email"] == "alice@example.com"


async def test_protocol_claims_cannot_be_requested_into_the_access_token_list(server):
    requested = {"userinfo": {"email": None, "sub": None, "iss": None}}
    body = await code_tokens(server, claims=claims(requested))
    access_token = jwt_parts(body["access_token"])[1]
    assert access_token["userinfo_claims"] == ["email"]
    assert "email" not in access_token  # only the names travel in the access token, never the values


async def test_userinfo_claims_survive_a_refresh(server):
    body = await code_tokens(server, scope="openid offline_access", claims=claims({"userinfo": {"email": None}}))
    refreshed = await refresh(server.client, "claims.web", body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert await userinfo(server, refreshed.json()["access_token"]) == {"sub": "1", "email": "alice@example.com"}


async def test_reference_access_tokens_carry_the_userinfo_claims_too(server):
    body = await code_tokens(server, "claims.reference", claims=claims({"userinfo": {"email": None}}))
    assert body["access_token"].count(".") == 0  # a handle, not a JWT
    assert await userinfo(server, body["access_token"]) == {"sub": "1", "email": "alice@example.com"}


async def test_implicit_id_token_carries_the_requested_claims(server):
    request = {
        "client_id": "claims.implicit",
        "response_type": "id_token",
        "redirect_uri": CALLBACK,
        "scope": "openid",
        "nonce": "n-1",
        "state": "s-1",
        "claims": claims(EMAIL),
    }
    response = await complete_authorize(Browser(server.client), request)
    returned = redirect_parameters(response)
    assert jwt_parts(returned["id_token"])[1]["email"] == "alice@example.com"


# -- sub and acr (OIDC Core §5.5.1, §5.5.1.1) ------------------------------------------------------------------------


async def test_sub_with_the_signed_in_users_value_is_answered(server):
    body = await code_tokens(server, claims=claims({"id_token": {"sub": {"value": "1"}}}))
    assert jwt_parts(body["id_token"])[1]["sub"] == "1"


async def test_sub_with_another_users_value_needs_a_new_login(server):
    returned = await authorize_error(server, prompt="none", claims=claims({"id_token": {"sub": {"value": "2"}}}))
    assert returned["error"] == "login_required"


async def test_essential_acr_the_authentication_does_not_meet_fails_the_request(server):
    requested = {"id_token": {"acr": {"essential": True, "values": ["urn:example:loa:3", "urn:example:loa:4"]}}}
    returned = await authorize_error(server, claims=claims(requested))
    assert returned["error"] == "unmet_authentication_requirements"
    assert "code" not in returned


async def test_essential_acr_with_value_is_met_by_a_session_with_that_acr(server):
    session = server.services.user_session
    ticket = session.new_ticket("1", ["pwd"], acr="urn:example:loa:3", issuer=server.issuer)
    for cookie in await session.sign_in(ticket, True):
        name, value = cookie.split(";", 1)[0].split("=", 1)
        server.client.cookies.set(name, value)
    requested = {"id_token": {"acr": {"essential": True, "value": "urn:example:loa:3"}}}
    body = await code_tokens(server, claims=claims(requested))
    assert jwt_parts(body["id_token"])[1]["acr"] == "urn:example:loa:3"


async def test_voluntary_acr_values_do_not_fail_the_request(server):
    body = await code_tokens(server, claims=claims({"id_token": {"acr": {"values": ["urn:example:loa:3"]}}}))
    assert "acr" not in jwt_parts(body["id_token"])[1]


async def test_an_essential_acr_the_login_does_not_meet_fails_after_the_login_page(server):
    requested = {"id_token": {"acr": {"essential": True, "values": ["urn:example:loa:4"]}}}
    request, _ = code_request("claims.web", CALLBACK, "openid", claims=claims(requested))
    response = await complete_authorize(Browser(server.client), request)
    assert response.status_code == 302, response.text[:300]
    assert redirect_parameters(response)["error"] == "unmet_authentication_requirements"


# -- consent ----------------------------------------------------------------------------------------------------------


async def test_the_consent_page_lists_the_claims_asked_for_individually(server):
    browser = Browser(server.client)
    await sign_in(browser)
    request, _ = code_request("claims.consent", CALLBACK, "openid", claims=claims({"userinfo": {"email": None}}))
    page = await browser.get(authorize_path(request))
    assert is_consent_page(page)
    assert "It also asks for: email" in page.text


# -- inside a signed request object (OIDC Core §6.1) ------------------------------------------------------------------


def request_object(server: Server, client_id: str, payload_claims: object, **extra: object) -> tuple[str, str]:
    now = int(server.clock.timestamp())
    verifier, challenge = pkce_pair()
    payload = {
        "iss": client_id,
        "aud": server.issuer,
        "exp": now + 60,
        "jti": f"jti-{time.monotonic_ns()}",
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": CALLBACK,
        "scope": "openid",
        "state": "s-jar",
        "nonce": "n-jar",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "claims": payload_claims,
        **extra,
    }
    return client_assertion(RSA_CLIENT_KEY, "RS256", payload, {"kid": "rsa1"}), verifier


async def redeem_code(server: Server, client_id: str, code: str, verifier: str) -> dict:
    response = await server.client.post(
        "/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(client_id, "secret"),
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("client_id", ["claims.jar", "claims.jar.only"])
async def test_claims_inside_a_signed_request_object_are_honoured(server, client_id):
    browser = Browser(server.client)
    await sign_in(browser)
    requested = {"id_token": {"email": {"essential": True}}, "userinfo": {"name": None}}
    token, verifier = request_object(server, client_id, requested)
    params = {"client_id": client_id, "response_type": "code", "scope": "openid", "request": token}
    response = await browser.get(authorize_path(params))
    returned = redirect_parameters(response)
    assert "code" in returned, returned
    body = await redeem_code(server, client_id, returned["code"], verifier)
    assert jwt_parts(body["id_token"])[1]["email"] == "alice@example.com"
    assert await userinfo(server, body["access_token"]) == {"sub": "1", "name": "Alice Smith"}


async def test_the_request_objects_claims_win_over_the_parameter(server):
    browser = Browser(server.client)
    await sign_in(browser)
    token, verifier = request_object(server, "claims.jar", {"id_token": {"email": None}})
    params = {
        "client_id": "claims.jar",
        "response_type": "code",
        "scope": "openid",
        "request": token,
        "claims": claims({"id_token": {"name": None}}),
    }
    returned = redirect_parameters(await browser.get(authorize_path(params)))
    id_token = jwt_parts((await redeem_code(server, "claims.jar", returned["code"], verifier))["id_token"])[1]
    assert id_token["email"] == "alice@example.com" and "name" not in id_token


async def test_a_malformed_claims_member_inside_a_request_object_is_invalid_request(server):
    browser = Browser(server.client)
    await sign_in(browser)
    token, _ = request_object(server, "claims.jar", {"id_token": ["email"]})
    params = {"client_id": "claims.jar", "response_type": "code", "scope": "openid", "request": token}
    returned = redirect_parameters(await browser.get(authorize_path(params)))
    assert returned["error"] == "invalid_request" and returned["state"] == "s-jar"


async def test_a_client_that_requires_request_objects_cannot_send_claims_outside(server):
    browser = Browser(server.client)
    await sign_in(browser)
    token, _ = request_object(server, "claims.jar.only", EMAIL)
    params = {
        "client_id": "claims.jar.only",
        "response_type": "code",
        "scope": "openid",
        "request": token,
        "claims": claims({"userinfo": {"name": None}}),
    }
    response = await server.client.get(authorize_path(params))
    # RFC 9101 §5 check runs before the redirect URI (inside the object) is trusted: the error page, no redirect
    assert response.status_code == 302 and "/error" in response.headers["location"], response.headers
    page = await browser.follow(response)
    assert "invalid_request" in page.text and "claims" in page.text


# -- malformed ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        "[]",
        '"id_token"',
        '{"id_token": ["email"]}',
        '{"userinfo": "email"}',
        '{"id_token": {"email": true}}',
        '{"id_token": {"email": "essential"}}',
        '{"id_token": {"email": {"essential": "yes"}}}',
        '{"id_token": {"acr": {"values": "urn:loa:1"}}}',
        '{"id_token": {"": null}}',
        '{"id_token": {"email": {"value": NaN}}}',
        "[" * 3000,
        json.dumps({"id_token": {f"claim{i}": None for i in range(400)}}),
    ],
)
async def test_malformed_claims_are_invalid_request_redirected_with_state(server, value):
    returned = await authorize_error(server, claims=value)
    assert returned["error"] == "invalid_request", returned
    assert "claims" in returned["error_description"]


async def test_claims_without_the_openid_scope_are_invalid_request(server):
    browser = Browser(server.client)
    await sign_in(browser)
    request, _ = code_request("claims.web", CALLBACK, "api1", claims=claims(EMAIL))
    returned = redirect_parameters(await browser.get(authorize_path(request)))
    assert returned["error"] == "invalid_request" and "openid" in returned["error_description"]


async def test_userinfo_claims_without_an_access_token_are_invalid_request(server):
    request = {
        "client_id": "claims.implicit",
        "response_type": "id_token",
        "redirect_uri": CALLBACK,
        "scope": "openid",
        "nonce": "n-1",
        "state": "s-1",
        "claims": claims({"userinfo": {"email": None}}),
    }
    browser = Browser(server.client)
    await sign_in(browser)
    returned = redirect_parameters(await browser.get(authorize_path(request)))
    assert returned["error"] == "invalid_request" and returned["state"] == "s-1"


async def test_malformed_claims_with_an_unregistered_redirect_uri_never_redirect(server):
    request, _ = code_request("claims.web", "https://attacker.example/cb", "openid", claims="not json")
    response = await server.client.get(authorize_path(request))
    assert response.status_code == 302
    assert not response.headers["location"].startswith("https://attacker.example")
    assert "/error" in response.headers["location"]


async def test_unknown_members_and_claim_fields_are_ignored(server):
    requested = {
        "id_token": {"email": {"essential": True, "purpose": "login"}, "name#ja-Kana-JP": None},
        "verified_claims": {"x": None},
    }
    body = await code_tokens(server, claims=claims(requested))
    assert jwt_parts(body["id_token"])[1]["email"] == "alice@example.com"


async def test_a_remembered_consent_does_not_cover_claims_asked_for_individually(server):
    browser = Browser(server.client)
    await sign_in(browser)
    first, _ = code_request("claims.consent", CALLBACK, "openid")
    page = await browser.get(authorize_path(first))
    assert is_consent_page(page)
    answered = await browser.submit(page, {"button": "yes", "remember_consent": "true"})
    assert "code" in redirect_parameters(answered)
    again, _ = code_request("claims.consent", CALLBACK, "openid")
    assert "code" in redirect_parameters(await browser.get(authorize_path(again)))  # remembered
    individual, _ = code_request("claims.consent", CALLBACK, "openid", claims=claims(EMAIL))
    assert is_consent_page(await browser.get(authorize_path(individual)))
    silent, _ = code_request("claims.consent", CALLBACK, "openid", claims=claims(EMAIL), prompt="none")
    assert redirect_parameters(await browser.get(authorize_path(silent)))["error"] == "consent_required"


# -- pushed (RFC 9126) ---------------------------------------------------------------------------------------------


async def test_claims_pushed_to_the_par_endpoint_are_honoured(server):
    browser = Browser(server.client)
    await sign_in(browser)
    request, verifier = code_request("claims.web", CALLBACK, "openid", claims=claims(EMAIL))
    pushed = await server.client.post("/connect/par", data=request, auth=("claims.web", "secret"))
    assert pushed.status_code == 201, pushed.text
    params = {"client_id": "claims.web", "request_uri": pushed.json()["request_uri"]}
    returned = redirect_parameters(await browser.get(authorize_path(params)))
    body = await redeem_code(server, "claims.web", returned["code"], verifier)
    assert jwt_parts(body["id_token"])[1]["email"] == "alice@example.com"


async def test_malformed_claims_are_refused_at_the_par_endpoint(server):
    request, _ = code_request("claims.web", CALLBACK, "openid", claims='{"id_token": 1}')
    pushed = await server.client.post("/connect/par", data=request, auth=("claims.web", "secret"))
    assert pushed.status_code == 400, pushed.text
    assert pushed.json()["error"] == "invalid_request"


async def test_claims_of_a_request_object_survive_the_login_page(server):
    token, verifier = request_object(server, "claims.jar", EMAIL)
    params = {"client_id": "claims.jar", "response_type": "code", "scope": "openid", "request": token}
    response = await complete_authorize(Browser(server.client), params)
    returned = redirect_parameters(response)
    assert "code" in returned, returned
    body = await redeem_code(server, "claims.jar", returned["code"], verifier)
    assert jwt_parts(body["id_token"])[1]["email"] == "alice@example.com"
