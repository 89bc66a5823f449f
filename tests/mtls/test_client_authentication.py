"""RFC 8705 §2 client authentication through a TLS-terminating proxy (RFC 9440 ``Client-Cert``): the two methods,
the certificate forms, and the bad input that must be refused without issuing anything."""

from __future__ import annotations

import pytest

from identityserver.models.grants import PersistedGrantFilter
from tests.mtls.certificates import expired, issue, make_ca, self_signed
from tests.mtls.support import (
    CA,
    DN_CLIENT,
    ELSEWHERE,
    SAN_CLIENT,
    SELF_SIGNED,
    SELF_SIGNED_BASE64,
    SELF_SIGNED_JWK,
    confirmation,
    mtls_server,
    mtls_toml,
    x5t,
)
from tests.support.data import test_configuration as configuration
from tests.support.server import make_builder, running

CC = {"grant_type": "client_credentials", "scope": "api1"}


def cc(client_id: str) -> dict[str, str]:
    return {**CC, "client_id": client_id}


@pytest.mark.parametrize(
    ("client_id", "certificate"),
    [
        ("mtls.dn", DN_CLIENT),
        ("mtls.san", SAN_CLIENT),
        ("mtls.email", SAN_CLIENT),
        ("mtls.ip", SAN_CLIENT),
        ("mtls.uri", SAN_CLIENT),
        ("mtls.self", SELF_SIGNED),
        ("mtls.self64", SELF_SIGNED_BASE64),
        ("mtls.jwk", SELF_SIGNED_JWK),
    ],
)
async def test_each_registered_certificate_form_authenticates_and_binds_the_token(client_id, certificate):
    async with mtls_server() as proxy:
        response = await proxy.token(cc(client_id), certificate)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"  # RFC 8705 §3: certificate binding keeps the Bearer scheme
    assert confirmation(body["access_token"]) == {"x5t#S256": x5t(certificate)}


async def test_nginx_escaped_pem_is_read_like_the_rfc_9440_form():
    async with mtls_server() as proxy:
        response = await proxy.server.client.post(
            "/connect/token", data=cc("mtls.dn"), headers={"Client-Cert": DN_CLIENT.nginx_header}
        )
    assert response.status_code == 200, response.text
    assert confirmation(response.json()["access_token"]) == {"x5t#S256": x5t(DN_CLIENT)}


async def test_the_client_certificate_header_name_is_configurable():
    async with mtls_server('client_certificate_header = "X-SSL-Client-Cert"') as proxy:
        response = await proxy.server.client.post(
            "/connect/token", data=cc("mtls.dn"), headers={"X-SSL-Client-Cert": DN_CLIENT.nginx_header}
        )
        ignored = await proxy.token(cc("mtls.dn"), DN_CLIENT)
    assert response.status_code == 200, response.text
    assert ignored.status_code == 400 and ignored.json()["error"] == "invalid_client"


async def test_a_client_cert_header_from_an_untrusted_address_is_ignored():
    async with mtls_server(peer=ELSEWHERE) as proxy:
        response = await proxy.token(cc("mtls.dn"), DN_CLIENT)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("client_id", "certificate", "why"),
    [
        ("mtls.dn", expired(CA, "mtls.dn"), "expired"),
        ("mtls.dn", self_signed("mtls.dn"), "self-signed where a CA-issued one is required"),
        ("mtls.dn", issue(CA, "mtls.other"), "another subject"),
        ("mtls.dn", issue(make_ca("Forger CA"), "mtls.dn", org="Forged"), "forged subject"),
        ("mtls.san", issue(CA, "x", dns=["evil.example"]), "another SAN"),
        ("mtls.ip", issue(CA, "x", ips=["192.0.2.11"]), "another IP address"),
        ("mtls.uri", issue(CA, "x", uris=["spiffe://example.org/payments/x"]), "another URI"),
        ("mtls.san", DN_CLIENT, "no SAN at all"),
        ("mtls.self", self_signed("mtls.self"), "same name, another key"),
        ("mtls.self64", SELF_SIGNED, "another registered client's certificate"),
        ("mtls.jwk", self_signed("mtls.jwk"), "another key"),
    ],
)
async def test_wrong_certificates_are_invalid_client_and_issue_nothing(client_id, certificate, why):
    async with mtls_server() as proxy:
        response = await proxy.token(cc(client_id), certificate)
        grants = await proxy.server.services.persisted_grants.get_all(PersistedGrantFilter(client_id=client_id))
    assert response.status_code == 400, why
    assert response.json() == {"error": "invalid_client", "error_description": "invalid client credentials"}, why
    assert grants == []


async def test_a_certificate_client_without_a_certificate_is_invalid_client():
    async with mtls_server() as proxy:
        response = await proxy.token(cc("mtls.dn"))
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "value",
    [
        ":not base64!:",
        "-----BEGIN CERTIFICATE-----%0Agarbage%0A-----END CERTIFICATE-----",
        "plain text",
        ":" + "A" * 80 + ":",
    ],
)
async def test_malformed_client_cert_headers_count_as_no_certificate(value):
    async with mtls_server() as proxy:
        response = await proxy.server.client.post("/connect/token", data=cc("mtls.dn"), headers={"Client-Cert": value})
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"


async def test_two_client_cert_headers_count_as_no_certificate():
    async with mtls_server() as proxy:
        response = await proxy.server.client.post(
            "/connect/token",
            data=cc("mtls.dn"),
            headers=[("Client-Cert", DN_CLIENT.client_cert_header), ("Client-Cert", SAN_CLIENT.client_cert_header)],
        )
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"


async def test_a_shared_secret_client_is_not_switched_to_certificate_authentication():
    async with mtls_server() as proxy:
        response = await proxy.token({**cc("shared.secret"), "client_secret": "secret"}, DN_CLIENT)
    assert response.status_code == 200, response.text
    assert confirmation(response.json()["access_token"]) is None  # it did not authenticate with the certificate


async def test_always_emit_confirmation_claim_binds_every_client_that_presents_a_certificate():
    async with mtls_server("always_emit_confirmation_claim = true") as proxy:
        bound = await proxy.token({**cc("shared.secret"), "client_secret": "secret"}, SELF_SIGNED)
        unbound = await proxy.token({**cc("shared.secret"), "client_secret": "secret"})
    assert confirmation(bound.json()["access_token"]) == {"x5t#S256": x5t(SELF_SIGNED)}
    assert confirmation(unbound.json()["access_token"]) is None


async def test_certificate_methods_are_refused_while_mutual_tls_is_off():
    config = configuration(mtls_toml().replace("enabled = true", "enabled = false"))
    async with running(make_builder(config)) as server:
        response = await server.client.post(
            "/connect/token", data=cc("mtls.dn"), headers={"Client-Cert": DN_CLIENT.client_cert_header}
        )
        discovery = (await server.client.get("/.well-known/openid-configuration")).json()
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"
    assert "tls_client_auth" not in discovery["token_endpoint_auth_methods_supported"]
    assert "mtls_endpoint_aliases" not in discovery
    assert "tls_client_certificate_bound_access_tokens" not in discovery


async def test_a_certificate_client_revokes_its_token_at_the_mtls_revocation_alias():
    async with mtls_server() as proxy:
        token = (await proxy.token(cc("mtls.reference"), DN_CLIENT)).json()["access_token"]
        revoked = await proxy.token(
            {"token": token, "client_id": "mtls.reference"}, DN_CLIENT, path="/connect/mtls/revocation"
        )
        introspected = await proxy.server.client.post(
            "/connect/introspect", data={"token": token}, auth=("urn:api1", "api1-secret")
        )
    assert revoked.status_code == 200, revoked.text
    assert introspected.json() == {"active": False}
