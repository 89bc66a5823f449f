"""An in-process server with mutual TLS on, behind a TLS-terminating proxy at ``PROXY`` (RFC 9440 ``Client-Cert``),
and the clients and certificates the tests use."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from identityserver.crypto.jwk import public_jwk
from identityserver.crypto.jwt import decode_jws
from identityserver.hosting.app import create_app
from identityserver.ui import create_ui
from tests.mtls.certificates import NOW, Issued, issue, make_ca, self_signed
from tests.support.clock import FakeClock
from tests.support.data import test_configuration
from tests.support.keys import pregenerated_signing_keys
from tests.support.server import ISSUER, Server, make_builder

PROXY = "10.0.0.5"
"""The TLS-terminating proxy: the only peer whose ``Client-Cert`` header counts."""
ELSEWHERE = "198.51.100.9"

CA = make_ca()
DN_CLIENT = issue(CA, "mtls.dn")
SAN_CLIENT = issue(
    CA,
    "something else",
    dns=["client.example"],
    emails=["ops@client.example"],
    ips=["192.0.2.10"],
    uris=["spiffe://example.org/payments"],
)
SELF_SIGNED = self_signed("mtls.self")
SELF_SIGNED_BASE64 = self_signed("mtls.self64")
SELF_SIGNED_JWK = self_signed("mtls.jwk")
PUBLIC_DEVICE = self_signed("device-1")
OTHER_DEVICE = self_signed("device-2")


def _jwk(cert: Issued) -> str:
    return json.dumps(public_jwk(cert.key.public_key()))


def mtls_toml(options: str = "", clients: str = "") -> str:
    return (
        clients
        + f"""
[options.mutual_tls]
enabled = true
trusted_proxies = ["{PROXY}"]
{options}

[[clients]]
client_id = "mtls.dn"
client_secrets = [{{ type = "X509Name", value = "CN=mtls.dn, O=Example" }}]
token_endpoint_auth_method = "tls_client_auth"
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "mtls.reference"
client_secrets = [{{ type = "X509Name", value = "O=Example,CN=mtls.dn" }}]
token_endpoint_auth_method = "tls_client_auth"
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
access_token_type = "reference"

[[clients]]
client_id = "mtls.san"
client_secrets = [{{ type = "X509Name", value = "dns:client.example" }}]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "mtls.email"
client_secrets = [{{ type = "X509Name", value = "email:ops@client.example" }}]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "mtls.ip"
client_secrets = [{{ type = "X509Name", value = "ip:192.0.2.10" }}]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "mtls.uri"
client_secrets = [{{ type = "X509Name", value = "uri:spiffe://example.org/payments" }}]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "mtls.self"
client_secrets = [{{ type = "X509Thumbprint", value = "{SELF_SIGNED.sha1_hex}" }}]
token_endpoint_auth_method = "self_signed_tls_client_auth"
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "mtls.self64"
client_secrets = [{{ type = "X509CertificateBase64", value = "{base64.b64encode(SELF_SIGNED_BASE64.der).decode()}" }}]
token_endpoint_auth_method = "self_signed_tls_client_auth"
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "mtls.jwk"
client_secrets = [{{ type = "JWK", value = '{_jwk(SELF_SIGNED_JWK)}' }}]
token_endpoint_auth_method = "self_signed_tls_client_auth"
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "public.bound"
require_client_secret = false
tls_client_certificate_bound_access_tokens = true
allowed_grant_types = ["password"]
allowed_scopes = ["openid", "profile", "api1"]
allow_offline_access = true

[[clients]]
client_id = "confidential.bound"
client_secrets = ["secret"]
tls_client_certificate_bound_access_tokens = true
allowed_grant_types = ["password"]
allowed_scopes = ["openid", "api1"]
allow_offline_access = true

[[clients]]
client_id = "shared.secret"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
"""
    )


@dataclass
class Proxy:
    """What the proxy forwards: the certificate of the TLS connection it terminated."""

    server: Server

    async def token(
        self, data: dict[str, Any], certificate: Issued | None = None, path: str = "/connect/token", **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if certificate is not None:
            headers["Client-Cert"] = certificate.client_cert_header
        return await self.server.client.post(path, data=data, headers=headers, **kwargs)


@contextlib.asynccontextmanager
async def mtls_server(
    options: str = "", peer: str = PROXY, issuer: str | None = ISSUER, clients: str = ""
) -> AsyncIterator[Proxy]:
    """The server with ``[options.mutual_tls]`` (plus ``options``) and ``clients`` first, its requests arriving
    from ``peer``."""
    builder = make_builder(test_configuration(mtls_toml(options, clients)), clock=FakeClock(NOW), issuer=issuer)
    services = builder.build()
    with pregenerated_signing_keys():
        for step in services.startup:
            await step()
    app = create_app(services, create_ui(services))
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        clock = builder.clock
        assert isinstance(clock, FakeClock)
        yield Proxy(Server(services, client, clock, services.options.issuer_uri or ISSUER))


def confirmation(access_token: str) -> dict[str, Any] | None:
    cnf = decode_jws(access_token).payload.get("cnf")
    return cnf if isinstance(cnf, dict) else None


def x5t(certificate: Issued) -> str:
    import hashlib

    from identityserver._utils.b64 import b64url_encode

    return b64url_encode(hashlib.sha256(certificate.der).digest())
