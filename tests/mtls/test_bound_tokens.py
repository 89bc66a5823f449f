"""Certificate-bound tokens (RFC 8705 §3, §4): binding at the token endpoint, refresh tokens of public clients,
introspection's ``cnf``, the userinfo endpoint, and DPoP in the same deployment."""

from __future__ import annotations

import json

from identityserver.client.dpop import DPoPKey
from identityserver.constants import TokenEndpointAuthMethods
from identityserver.http.parameters import Parameters
from identityserver.models.client import Client
from identityserver.models.grants import ProofType
from identityserver.validation.results import ValidatedTokenRequest
from identityserver.validation.token_request.certificate_binding import is_certificate_bound
from tests.mtls.support import DN_CLIENT, OTHER_DEVICE, PUBLIC_DEVICE, confirmation, mtls_server, x5t
from tests.support.server import basic

PASSWORD = {"grant_type": "password", "username": "alice", "password": "alice", "scope": "openid api1 offline_access"}


def refresh(client_id: str, refresh_token: str) -> dict[str, str]:
    return {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}


async def test_a_certificate_and_a_dpop_proof_together_are_invalid_request():
    async with mtls_server() as proxy:
        proof = DPoPKey.generate(clock=proxy.server.clock).create_proof("POST", f"{proxy.server.issuer}/connect/token")
        data = {"grant_type": "client_credentials", "scope": "api1", "client_id": "mtls.dn"}
        response = await proxy.token(data, DN_CLIENT, headers={"DPoP": proof})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "one confirmation mechanism" in response.json()["error_description"]


async def test_dpop_clients_work_beside_mutual_tls():
    async with mtls_server() as proxy:
        key = DPoPKey.generate(clock=proxy.server.clock)
        proof = key.create_proof("POST", f"{proxy.server.issuer}/connect/token")
        data = {
            "grant_type": "client_credentials",
            "scope": "api1",
            "client_id": "shared.secret",
            "client_secret": "secret",
        }
        response = await proxy.token(data, headers={"DPoP": proof})
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "DPoP"
    assert confirmation(response.json()["access_token"]) == {"jkt": key.thumbprint}


async def test_a_client_that_asks_for_bound_tokens_needs_a_certificate():
    async with mtls_server() as proxy:
        response = await proxy.token({**PASSWORD, "client_id": "public.bound"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "tls_client_certificate_bound_access_tokens" in response.json()["error_description"]


async def test_a_public_clients_refresh_token_is_bound_to_its_certificate():
    async with mtls_server() as proxy:
        first = await proxy.token({**PASSWORD, "client_id": "public.bound"}, PUBLIC_DEVICE)
        assert first.status_code == 200, first.text
        tokens = first.json()
        assert confirmation(tokens["access_token"]) == {"x5t#S256": x5t(PUBLIC_DEVICE)}
        handle = tokens["refresh_token"]
        other = await proxy.token(refresh("public.bound", handle), OTHER_DEVICE)
        missing = await proxy.token(refresh("public.bound", handle))
        proof = DPoPKey.generate(clock=proxy.server.clock).create_proof("POST", f"{proxy.server.issuer}/connect/token")
        with_dpop = await proxy.token(refresh("public.bound", handle), headers={"DPoP": proof})
        same = await proxy.token(refresh("public.bound", handle), PUBLIC_DEVICE)
    assert (other.status_code, other.json()["error"]) == (400, "invalid_grant")
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    assert (with_dpop.status_code, with_dpop.json()["error"]) == (400, "invalid_request")
    assert same.status_code == 200, same.text  # the refused attempts changed nothing
    assert confirmation(same.json()["access_token"]) == {"x5t#S256": x5t(PUBLIC_DEVICE)}
    assert same.json()["token_type"] == "Bearer"


async def test_a_confidential_client_may_present_a_new_certificate_on_refresh():
    async with mtls_server() as proxy:
        first = await proxy.token(PASSWORD, PUBLIC_DEVICE, auth=("confidential.bound", "secret"))
        handle = first.json()["refresh_token"]
        renewed = await proxy.token(
            {"grant_type": "refresh_token", "refresh_token": handle},
            OTHER_DEVICE,
            auth=("confidential.bound", "secret"),
        )
    assert renewed.status_code == 200, renewed.text
    assert confirmation(renewed.json()["access_token"]) == {"x5t#S256": x5t(OTHER_DEVICE)}


async def test_binding_cannot_start_on_an_unbound_refresh_token():
    async with mtls_server("always_emit_confirmation_claim = true") as proxy:
        first = await proxy.token(PASSWORD, auth=("ropc", "secret"))
        handle = first.json()["refresh_token"]
        response = await proxy.token(
            {"grant_type": "refresh_token", "refresh_token": handle}, PUBLIC_DEVICE, auth=("ropc", "secret")
        )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_introspection_returns_the_confirmation_of_jwt_and_reference_tokens():
    async with mtls_server() as proxy:
        data = {"grant_type": "client_credentials", "scope": "api1"}
        jwt = (await proxy.token({**data, "client_id": "mtls.dn"}, DN_CLIENT)).json()["access_token"]
        reference = (await proxy.token({**data, "client_id": "mtls.reference"}, DN_CLIENT)).json()["access_token"]
        results = [
            await proxy.server.client.post(
                "/connect/introspect", data={"token": token}, headers=basic("urn:api1", "api1-secret")
            )
            for token in (jwt, reference)
        ]
    assert reference.count(".") != 2
    for result in results:
        assert result.status_code == 200, result.text
        assert result.json()["active"] is True
        assert result.json()["cnf"] == {"x5t#S256": x5t(DN_CLIENT)}


async def test_userinfo_refuses_a_bound_token_without_its_certificate():
    async with mtls_server() as proxy:
        tokens = (await proxy.token({**PASSWORD, "client_id": "public.bound"}, PUBLIC_DEVICE)).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        client = proxy.server.client
        missing = await client.get("/connect/userinfo", headers=bearer)
        other = await client.get(
            "/connect/userinfo", headers={**bearer, "Client-Cert": OTHER_DEVICE.client_cert_header}
        )
        right = await client.get(
            "/connect/userinfo", headers={**bearer, "Client-Cert": PUBLIC_DEVICE.client_cert_header}
        )
    for refused in (missing, other):
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert right.status_code == 200, right.text
    assert right.json()["sub"] == "1"


def test_is_certificate_bound_tells_a_profile_whether_the_request_is_sender_constrained():
    request = ValidatedTokenRequest(Parameters([]), Client(client_id="c"), "client_credentials", "https://idp")
    assert not is_certificate_bound(request)
    request.proof_type = int(ProofType.DPOP)
    assert not is_certificate_bound(request)
    request.proof_type = int(ProofType.CLIENT_CERTIFICATE)
    request.confirmation = json.dumps({"x5t#S256": "abc"})
    assert is_certificate_bound(request)
    assert TokenEndpointAuthMethods.TLS_CLIENT_AUTH == "tls_client_auth"


async def test_a_fapi_2_client_is_sender_constrained_by_its_certificate_without_dpop():
    fapi = """
[options.key_management]
signing_algorithms = ["RS256", "ES256"]

[[clients]]
client_id = "fapi.mtls"
security_profile = "fapi2"
client_secrets = [{ type = "X509Name", value = "CN=mtls.dn, O=Example" }]
token_endpoint_auth_method = "tls_client_auth"
tls_client_certificate_bound_access_tokens = true
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
"""
    async with mtls_server(clients=fapi) as proxy:
        data = {"grant_type": "client_credentials", "scope": "api1", "client_id": "fapi.mtls"}
        bound = await proxy.token(data, DN_CLIENT)
        unbound = await proxy.token(data)
    assert bound.status_code == 200, bound.text
    assert confirmation(bound.json()["access_token"]) == {"x5t#S256": x5t(DN_CLIENT)}
    assert (unbound.status_code, unbound.json()["error"]) == (400, "invalid_client")
