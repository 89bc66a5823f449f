"""ID tokens (OIDC Core §2, §3.1.3.6-3.1.3.7, §3.3.2.11, §5.4; duende §1.5; security.md item 36), verified
against the JWKS with an independent JOSE implementation (Authlib)."""

from __future__ import annotations

from dataclasses import replace

from identityserver.crypto.hashing import left_half_hash
from identityserver.options import IdentityServerOptions
from tests.support.browser import (
    Browser,
    authorize_path,
    code_request,
    obtain_code,
    pkce_pair,
    redeem,
    redirect_parameters,
    sign_in,
)
from tests.support.client_auth import jwt_parts, verify_jwt
from tests.support.data import test_configuration as configuration_with
from tests.support.server import Server, basic, make_builder, running

ALGORITHMS = ["RS256", "PS256", "ES256"]


async def jwks(server: Server) -> dict:
    return (await server.client.get("/.well-known/openid-configuration/jwks")).json()


async def code_flow(
    server: Server, client_id: str = "web", scope: str = "openid profile api1 offline_access", **extra: str
) -> tuple[dict, dict, dict]:
    """(ID token claims verified against the JWKS, token response, authorize request)."""
    grant = await obtain_code(server.client, client_id, scope=scope, **extra)
    response = await redeem(server.client, grant)
    assert response.status_code == 200, response.text
    body = response.json()
    return verify_jwt(body["id_token"], await jwks(server), ALGORITHMS), body, grant.request


async def test_id_token_carries_the_oidc_core_claims(server):
    login_time = int(server.clock.timestamp())
    claims, body, request = await code_flow(server)
    assert claims["iss"] == server.issuer
    assert claims["sub"] == "1"
    assert claims["aud"] == "web"
    assert claims["iat"] == login_time and claims["nbf"] == login_time
    assert claims["exp"] == claims["iat"] + 300
    assert claims["auth_time"] == login_time
    assert claims["nonce"] == request["nonce"]
    assert claims["amr"] == ["pwd"] and claims["idp"] == "local"
    header = jwt_parts(body["id_token"])[0]
    assert claims["at_hash"] == left_half_hash(body["access_token"], header["alg"])
    assert "c_hash" not in claims and "s_hash" not in claims  # hashes of what is not in the response
    assert "jti" not in claims and "scope" not in claims and "client_id" not in claims


async def test_id_token_header_names_a_published_key_and_no_access_token_type(server):
    _, body, _ = await code_flow(server)
    header = jwt_parts(body["id_token"])[0]
    assert header["alg"] == "RS256"
    assert header["kid"] in {k["kid"] for k in (await jwks(server))["keys"]}
    assert header.get("typ") in (None, "JWT")


async def test_sid_is_the_session_of_the_browser_and_of_the_access_token(server):
    claims, body, _ = await code_flow(server)
    ticket = await server.services.user_session.authenticate(dict(server.client.cookies))
    assert ticket is not None
    assert claims["sid"] == ticket.session_id
    assert jwt_parts(body["access_token"])[1]["sid"] == ticket.session_id
    assert server.client.cookies["idsrv.session"] == ticket.session_id


async def test_auth_time_is_the_time_of_the_login_not_of_the_token(server):
    login_time = int(server.clock.timestamp())
    await sign_in(Browser(server.client))
    server.clock.advance(120)
    claims, _, _ = await code_flow(server)
    assert claims["auth_time"] == login_time
    assert claims["iat"] == login_time + 120


async def test_nonce_is_absent_when_the_request_had_none(server):
    grant = await obtain_code(server.client, nonce="")
    body = (await redeem(server.client, grant)).json()
    assert "nonce" not in jwt_parts(body["id_token"])[1]


async def test_user_claims_are_left_to_userinfo_when_an_access_token_is_issued(server):
    claims, _, _ = await code_flow(server, scope="openid profile email api1")
    assert "name" not in claims and "email" not in claims


async def test_no_id_token_without_openid(server):
    grant = await obtain_code(server.client, scope="api1 offline_access")
    body = (await redeem(server.client, grant)).json()
    assert "id_token" not in body


EXTRA_TOML = """
[options.key_management]
signing_algorithms = ["RS256", "PS256", "ES256"]

[[clients]]
client_id = "claims.in.id_token"
require_client_secret = false
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "profile", "email", "api1"]
always_include_user_claims_in_id_token = true
identity_token_lifetime = 120

[[clients]]
client_id = "es256"
require_client_secret = false
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "api1"]
allowed_identity_token_signing_algorithms = ["ES256"]
"""


async def test_client_can_ask_for_user_claims_in_the_id_token_and_its_own_lifetime():
    async with running(make_builder(configuration_with(EXTRA_TOML))) as server:
        browser = Browser(server.client)
        await sign_in(browser)
        params, verifier = code_request("claims.in.id_token", scope="openid profile email api1")
        returned = redirect_parameters(await browser.get(authorize_path(params)))
        response = await server.token(
            {
                "grant_type": "authorization_code",
                "code": returned["code"],
                "redirect_uri": params["redirect_uri"],
                "code_verifier": verifier,
                "client_id": "claims.in.id_token",
            }
        )
        assert response.status_code == 200, response.text
        claims = verify_jwt(response.json()["id_token"], await jwks(server), ALGORITHMS)
        assert claims["name"] == "Alice Smith" and claims["email"] == "alice@example.com"
        assert claims["email_verified"] is True
        assert claims["exp"] - claims["iat"] == 120


async def test_id_token_is_signed_with_the_algorithm_the_client_allows():
    async with running(make_builder(configuration_with(EXTRA_TOML))) as server:
        browser = Browser(server.client)
        await sign_in(browser)
        params, verifier = code_request("es256", scope="openid api1")
        returned = redirect_parameters(await browser.get(authorize_path(params)))
        response = await server.token(
            {
                "grant_type": "authorization_code",
                "code": returned["code"],
                "redirect_uri": params["redirect_uri"],
                "code_verifier": verifier,
                "client_id": "es256",
            }
        )
        id_token = response.json()["id_token"]
        assert jwt_parts(id_token)[0]["alg"] == "ES256"
        claims = verify_jwt(id_token, await jwks(server), ["ES256"])
        assert claims["at_hash"] == left_half_hash(response.json()["access_token"], "ES256")
        assert len(claims["at_hash"]) == 22  # left half of SHA-256, base64url


async def test_emit_state_hash_adds_s_hash_to_the_id_token_of_the_code_exchange():
    async with running(make_builder(options=replace(IdentityServerOptions(), emit_state_hash=True))) as server:
        claims, body, _request = await code_flow(server, state="the-state")
        assert claims["s_hash"] == left_half_hash("the-state", jwt_parts(body["id_token"])[0]["alg"])


async def test_no_s_hash_by_default(server):
    claims, _, _ = await code_flow(server, state="the-state")
    assert "s_hash" not in claims


async def test_hybrid_front_channel_id_token_has_c_hash_and_the_back_channel_one_the_same_sub(server):
    browser = Browser(server.client)
    await sign_in(browser)
    verifier, challenge = pkce_pair()
    params = {
        "client_id": "hybrid",
        "response_type": "code id_token",
        "scope": "openid api1",
        "redirect_uri": "https://hybrid.example/cb",
        "nonce": "n-1",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    returned = redirect_parameters(await browser.get(authorize_path(params)))
    front = verify_jwt(returned["id_token"], await jwks(server), ALGORITHMS)
    assert front["c_hash"] == left_half_hash(returned["code"], jwt_parts(returned["id_token"])[0]["alg"])
    assert front["nonce"] == "n-1"
    response = await server.token(
        {
            "grant_type": "authorization_code",
            "code": returned["code"],
            "redirect_uri": params["redirect_uri"],
            "code_verifier": verifier,
        },
        headers=basic("hybrid", "secret"),
    )
    back = verify_jwt(response.json()["id_token"], await jwks(server), ALGORITHMS)
    for name in ("iss", "sub", "aud", "auth_time", "sid", "nonce"):
        assert back[name] == front[name], name
    assert "c_hash" not in back
