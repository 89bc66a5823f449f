"""FAPI 2.0 Security Profile (final) over real HTTP: a FAPI 2.0 client completes the code flow with PAR,
``private_key_jwt`` and DPoP, and every clause the profile states is enforced with its error (docs/fapi.md maps
each clause to the test here)."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

import httpx
import pytest

from identityserver.client.dpop import DPoPKey
from identityserver.crypto.jwk import public_jwk
from identityserver.crypto.jwt import decode_jws
from tests.fapi.conftest import FAPI_CB, FAPI_TOML, assertion_fields, fapi_parameters, push
from tests.support.browser import Browser, complete_authorize, redirect_parameters
from tests.support.client_auth import verify_jwt
from tests.support.data import test_configuration as configuration_with
from tests.support.server import Server, basic, make_builder, running


async def authorize_pushed(server: Server, client_id: str, request_uri: str) -> httpx.Response:
    """The authorize request of a pushed request, through login (and consent) in the server's UI."""
    browser = Browser(server.client)
    return await complete_authorize(browser, {"client_id": client_id, "request_uri": request_uri})


async def pushed_code(server: Server, client_id: str = "fapi", **extra: str) -> tuple[dict[str, str], str, dict]:
    """PAR then the authorize request; (the redirect's parameters, the PKCE verifier, the pushed parameters)."""
    params, verifier = fapi_parameters(client_id, **extra)
    pushed = await push(server, params, client_id)
    assert pushed.status_code == 201, pushed.text
    final = await authorize_pushed(server, client_id, pushed.json()["request_uri"])
    assert final.status_code == 302, final.text[:300]
    assert final.headers["location"].startswith(FAPI_CB + "?"), final.headers["location"]
    return redirect_parameters(final), verifier, params


async def token_request(
    server: Server, fields: dict[str, str], dpop: DPoPKey | None, client_id: str = "fapi"
) -> httpx.Response:
    headers = {"DPoP": dpop.create_proof("POST", server.issuer + "/connect/token")} if dpop else {}
    data = {**fields, **assertion_fields(server, client_id)}
    return await server.client.post("/connect/token", data=data, headers=headers)


def code_fields(returned: dict[str, str], verifier: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": returned["code"],
        "redirect_uri": FAPI_CB,
        "code_verifier": verifier,
    }


async def test_fapi2_client_completes_the_code_flow_with_par_private_key_jwt_and_dpop(fapi_server):
    server = fapi_server
    key = DPoPKey.generate("ES256", clock=server.clock)
    returned, verifier, params = await pushed_code(server)
    # §5.3.2.2: iss in the authorization response (RFC 9207), state echoed
    assert returned["iss"] == server.issuer and returned["state"] == params["state"]
    response = await token_request(server, code_fields(returned, verifier), key)
    assert response.status_code == 200, response.text
    body = response.json()
    # §5.3.2.1: sender-constrained access token (RFC 9449 §5: token_type DPoP, cnf.jkt of the proof key)
    assert body["token_type"] == "DPoP"
    jwks = (await server.client.get("/.well-known/openid-configuration/jwks")).json()
    claims = verify_jwt(body["access_token"], jwks, ["RS256", "ES256"])
    assert claims["cnf"] == {"jkt": key.thumbprint} and claims["client_id"] == "fapi"
    # §5.4.1: the ID token is signed with ES256 (the server's default is RS256)
    assert decode_jws(body["id_token"]).alg == "ES256"
    assert verify_jwt(body["id_token"], jwks, ["ES256"])["nonce"] == params["nonce"]
    # the access token works at a DPoP resource (userinfo) with a proof for it
    info = await server.client.get(
        "/connect/userinfo",
        headers={
            "Authorization": f"DPoP {body['access_token']}",
            "DPoP": key.create_proof("GET", server.issuer + "/connect/userinfo", access_token=body["access_token"]),
        },
    )
    assert info.status_code == 200, info.text


async def test_refresh_tokens_are_not_rotated(fapi_server):
    """§5.3.2.1: no refresh token rotation (the client's ``one_time_only`` is overridden)."""
    server = fapi_server
    key = DPoPKey.generate("ES256", clock=server.clock)
    returned, verifier, _ = await pushed_code(server, scope="openid api1 offline_access")
    first = await token_request(server, code_fields(returned, verifier), key)
    assert first.status_code == 200, first.text
    refresh_token = first.json()["refresh_token"]
    for _ in range(2):
        again = await token_request(server, {"grant_type": "refresh_token", "refresh_token": refresh_token}, key)
        assert again.status_code == 200, again.text
        assert again.json()["refresh_token"] == refresh_token
        assert again.json()["token_type"] == "DPoP"


async def test_token_request_without_dpop_is_refused(fapi_server):
    """§5.3.2.1: only sender-constrained access tokens: no proof, no token (RFC 9449 §5 error)."""
    server = fapi_server
    returned, verifier, _ = await pushed_code(server)
    response = await token_request(server, code_fields(returned, verifier), None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_dpop_proof"


async def test_dpop_proof_with_an_algorithm_outside_the_profile_is_refused(fapi_server):
    """§5.4.1: PS256, ES256 or EdDSA only, also for DPoP proofs."""
    server = fapi_server
    returned, verifier, _ = await pushed_code(server)
    response = await token_request(server, code_fields(returned, verifier), DPoPKey.generate("RS256", server.clock))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_dpop_proof"
    assert "PS256, ES256, EdDSA" in response.json()["error_description"]


async def test_authorization_code_lives_at_most_60_seconds(fapi_server):
    """§5.3.2.1: codes of at most 60 s, whatever the client's authorization_code_lifetime (300 here)."""
    server = fapi_server
    returned, verifier, _ = await pushed_code(server)
    server.clock.advance(61)
    key = DPoPKey.generate("ES256", clock=server.clock)
    response = await token_request(server, code_fields(returned, verifier), key)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_code_redeemed_within_60_seconds_succeeds(fapi_server):
    server = fapi_server
    returned, verifier, _ = await pushed_code(server)
    server.clock.advance(55)
    key = DPoPKey.generate("ES256", clock=server.clock)
    response = await token_request(server, code_fields(returned, verifier), key)
    assert response.status_code == 200, response.text


async def test_shared_secret_authentication_is_refused_at_par_and_token(fapi_server):
    """§5.3.2.1: private_key_jwt or mTLS only, even for a client that also has a shared secret."""
    server = fapi_server
    params, _ = fapi_parameters()
    pushed = await server.client.post("/connect/par", data=params, headers=basic("fapi", "secret"))
    assert pushed.status_code == 401 and pushed.json()["error"] == "invalid_client"
    token = await server.client.post(
        "/connect/token", data={"grant_type": "refresh_token", "refresh_token": "x"}, headers=basic("fapi", "secret")
    )
    assert token.status_code == 401 and token.json()["error"] == "invalid_client"


async def test_client_assertion_audience_must_be_the_issuer_as_a_string(fapi_server):
    """§5.3.2.1: only the issuer identifier, as a string, is accepted as ``aud`` of client assertions."""
    server = fapi_server
    params, _ = fapi_parameters()
    for audience in (server.issuer + "/connect/token", [server.issuer], server.issuer + "/connect/par"):
        fields = assertion_fields(server, aud=audience)
        response = await push(server, params, auth=fields)
        assert response.status_code == 400, (audience, response.text)
        assert response.json()["error"] == "invalid_client", audience


async def test_client_assertion_signed_with_rs256_is_refused(fapi_server):
    """§5.4.1: an RS256 client assertion (valid for a non-FAPI client) is refused; PS256 is accepted."""
    server = fapi_server
    params, _ = fapi_parameters("fapi.rsa")
    refused = await push(server, params, "fapi.rsa", auth=assertion_fields(server, "fapi.rsa", alg="RS256"))
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client"
    accepted = await push(server, params, "fapi.rsa")
    assert accepted.status_code == 201, accepted.text


async def test_authorize_request_without_par_is_refused(fapi_server):
    """§5.3.2.2: authorization requests only through PAR; never redirected."""
    server = fapi_server
    params, _ = fapi_parameters()
    response = await Browser(server.client).get("/connect/authorize?" + urlencode(params))
    assert response.status_code == 400 and response.url.path == "/home/error"
    assert "pushed authorization" in response.text


@pytest.mark.parametrize("response_type", ["code id_token", "token", "id_token"])
async def test_response_types_other_than_code_are_refused(fapi_server, response_type):
    """§5.3.2.2: the code flow only (implicit and hybrid are removed from the client's grants)."""
    server = fapi_server
    params, _ = fapi_parameters(response_type=response_type)
    response = await push(server, params)
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client", response.text


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "code_challenge is required"),
        ({"code_challenge_method": "plain"}, "plain is not allowed"),
        ({"code_challenge_method": None}, "plain is not allowed"),
    ],
)
async def test_pkce_with_s256_is_required(fapi_server, change, description):
    """§5.3.2.2: PKCE with S256 (a missing method means plain, RFC 7636 §4.3)."""
    server = fapi_server
    params, _ = fapi_parameters()
    params = {k: v for k, v in {**params, **change}.items() if v is not None}
    if change.get("code_challenge_method") == "plain":
        params["code_challenge"] = "a" * 43
    response = await push(server, params)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert description in response.json()["error_description"]


async def test_http_redirect_uri_is_refused_even_when_registered(fapi_server):
    """§5.3.2.2: https redirect URIs only (the client registered an http one too)."""
    server = fapi_server
    params, _ = fapi_parameters(redirect_uri="http://fapi.example/cb")
    response = await push(server, params)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "https" in response.json()["error_description"]


async def test_redirect_uri_must_match_exactly(fapi_server):
    server = fapi_server
    params, _ = fapi_parameters(redirect_uri=FAPI_CB + "/other")
    response = await push(server, params)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_iss_is_in_the_response_even_when_the_server_option_is_off():
    """§5.3.2.2: iss in the authorization response (RFC 9207) for FAPI clients regardless of the option."""
    config = configuration_with(FAPI_TOML)
    options = replace(config.options, emit_issuer_identification_response_parameter=False)
    async with running(make_builder(config, options=options)) as server:
        returned, _, _ = await pushed_code(server)
        assert returned["iss"] == server.issuer


async def test_password_grant_is_refused(fapi_server):
    """§5.3.2.1 (ROPC is not allowed): the grant is removed from a FAPI client."""
    server = fapi_server
    response = await server.client.post(
        "/connect/token",
        data={"grant_type": "password", "username": "alice", "password": "alice", **assertion_fields(server)},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client", response.text


async def test_discovery_advertises_the_profile_s_metadata(fapi_server):
    document = (await fapi_server.client.get("/.well-known/openid-configuration")).json()
    assert document["authorization_response_iss_parameter_supported"] is True
    assert "private_key_jwt" in document["token_endpoint_auth_methods_supported"]
    assert "S256" in document["code_challenge_methods_supported"]
    assert {"PS256", "ES256", "EdDSA"} <= set(document["dpop_signing_alg_values_supported"])
    assert "pushed_authorization_request_endpoint" in document
    assert public_jwk  # the JWKS lists the ES256 key the profile's tokens are signed with
    jwks = (await fapi_server.client.get("/.well-known/openid-configuration/jwks")).json()
    assert "ES256" in {k["alg"] for k in jwks["keys"]}


async def test_code_bound_at_par_to_a_dpop_key_needs_that_key(fapi_server):
    """§5.3.2.2 with RFC 9449 §10: a DPoP proof at PAR binds the code; another key at the token endpoint fails."""
    server = fapi_server
    bound = DPoPKey.generate("ES256", clock=server.clock)
    params, verifier = fapi_parameters()
    pushed = await push(server, params, dpop=bound)
    assert pushed.status_code == 201, pushed.text
    final = await authorize_pushed(server, "fapi", pushed.json()["request_uri"])
    returned = redirect_parameters(final)
    other = await token_request(server, code_fields(returned, verifier), DPoPKey.generate("ES256", server.clock))
    assert other.status_code == 400 and other.json()["error"] == "invalid_dpop_proof", other.text


async def test_authorization_code_is_one_time(fapi_server):
    server = fapi_server
    key = DPoPKey.generate("ES256", clock=server.clock)
    returned, verifier, _ = await pushed_code(server)
    assert (await token_request(server, code_fields(returned, verifier), key)).status_code == 200
    again = await token_request(server, code_fields(returned, verifier), key)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
