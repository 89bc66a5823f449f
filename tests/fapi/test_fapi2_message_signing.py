"""FAPI 2.0 Message Signing (final) over real HTTP: signed request objects (JAR, RFC 9101) at PAR and signed
authorization responses (JARM) are required; request objects are bounded in time (§5.3.1) and signed with
PS256, ES256 or EdDSA (FAPI 2.0 SP §5.4.1)."""

from __future__ import annotations

import json

from identityserver.crypto.jwt import decode_jws
from tests.fapi.conftest import FAPI_CB, fapi_parameters, push, request_object
from tests.fapi.test_fapi2_security_profile import authorize_pushed
from tests.support.client_auth import raw_jws, verify_jwt
from tests.support.data import RSA_CLIENT_KEY
from tests.support.server import Server


async def push_object(server: Server, client_id: str = "fapi.ms", **claims: object):
    params, verifier = fapi_parameters(client_id, response_mode="jwt")
    token = request_object(server, client_id, params, **claims)
    response = await push(server, {"client_id": client_id, "request": token}, client_id)
    return response, params, verifier


async def test_signed_request_and_signed_response_complete_the_flow(fapi_server):
    server = fapi_server
    pushed, params, _ = await push_object(server)
    assert pushed.status_code == 201, pushed.text
    final = await authorize_pushed(server, "fapi.ms", pushed.json()["request_uri"])
    assert final.status_code == 302, final.text[:300]
    location = final.headers["location"]
    assert location.startswith(FAPI_CB + "?response="), location
    token = location.split("response=", 1)[1]
    assert decode_jws(token).alg == "ES256"  # FAPI 2.0 SP §5.4.1 (the server's default is RS256)
    jwks = (await server.client.get("/.well-known/openid-configuration/jwks")).json()
    claims = verify_jwt(token, jwks, ["ES256"])
    assert claims["iss"] == server.issuer and claims["aud"] == "fapi.ms" and claims["state"] == params["state"]


async def test_plain_parameters_without_a_request_object_are_refused(fapi_server):
    server = fapi_server
    params, _ = fapi_parameters("fapi.ms", response_mode="jwt")
    response = await push(server, params, "fapi.ms")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "request object" in response.json()["error_description"]


async def test_request_object_without_jarm_response_mode_is_refused(fapi_server):
    server = fapi_server
    params, _ = fapi_parameters("fapi.ms")
    token = request_object(server, "fapi.ms", params)
    response = await push(server, {"client_id": "fapi.ms", "request": token}, "fapi.ms")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "response_mode jwt" in response.json()["error_description"]


async def test_request_object_without_nbf_is_refused(fapi_server):
    response, _, _ = await push_object(fapi_server, nbf=None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request_object"
    assert "nbf" in response.json()["error_description"]


async def test_request_object_living_more_than_60_minutes_is_refused(fapi_server):
    now = int(fapi_server.clock.timestamp())
    response, _, _ = await push_object(fapi_server, nbf=now, exp=now + 3601)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request_object"


async def test_request_object_with_nbf_more_than_60_minutes_ago_is_refused(fapi_server):
    now = int(fapi_server.clock.timestamp())
    response, _, _ = await push_object(fapi_server, nbf=now - 3601, exp=now + 60)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request_object"


async def test_request_object_within_the_bounds_is_accepted(fapi_server):
    now = int(fapi_server.clock.timestamp())
    response, _, _ = await push_object(fapi_server, nbf=now - 3500, exp=now + 90)
    assert response.status_code == 201, response.text


async def test_request_object_signed_with_rs256_is_refused_for_a_fapi_client(fapi_server):
    """FAPI 2.0 SP §5.4.1 applies to request objects of every FAPI 2.0 client."""
    server = fapi_server
    params, _ = fapi_parameters("fapi.rsa")
    now = int(server.clock.timestamp())
    claims = {**params, "iss": "fapi.rsa", "aud": server.issuer, "nbf": now, "exp": now + 300, "jti": "j1"}
    token = raw_jws(json.dumps({"alg": "RS256", "kid": "rsa1"}), json.dumps(claims), RSA_CLIENT_KEY, "RS256")
    response = await push(server, {"client_id": "fapi.rsa", "request": token}, "fapi.rsa")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request_object"
    assert "PS256, ES256, EdDSA" in response.json()["error_description"]
