"""``identityserver serve --tls-cert --tls-key --tls-client-ca``: the server terminates TLS itself, asks for a client
certificate and hands it to the app through the ASGI TLS extension (RFC 8705 §2). httpx presents real certificates
made for this run; the process is always stopped."""

from __future__ import annotations

import contextlib
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.mtls.certificates import expired, issue, make_ca, self_signed
from tests.mtls.support import CA, DN_CLIENT, SELF_SIGNED, confirmation, x5t
from tests.support.process import free_port

SERVER_CA = make_ca("Test Server CA")
SERVER = issue(SERVER_CA, "localhost", dns=["localhost"], ips=["127.0.0.1"], usage=ExtendedKeyUsageOID.SERVER_AUTH)


CONFIG = f"""
[options.mutual_tls]
enabled = true

[[clients]]
client_id = "mtls.dn"
client_secrets = [{{ type = "X509Name", value = "CN=mtls.dn, O=Example" }}]
token_endpoint_auth_method = "tls_client_auth"
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "mtls.self"
client_secrets = [{{ type = "X509Thumbprint", value = "{SELF_SIGNED.sha1_hex}" }}]
token_endpoint_auth_method = "self_signed_tls_client_auth"
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
"""
CC = {"grant_type": "client_credentials", "scope": "api1"}


@contextlib.contextmanager
def serve_tls(folder: Path) -> Iterator[tuple[str, ssl.SSLContext]]:
    """The server over HTTPS with client certificates from the client CA (and the registered self-signed one)."""
    server_cert, server_key = SERVER.write(folder, "server")
    client_ca = folder / "client-ca.pem"
    client_ca.write_text(CA.pem + SELF_SIGNED.pem)  # a self-signed client certificate is trusted by listing it
    config = folder / "identityserver.toml"
    config.write_text(CONFIG)
    port = free_port()
    command = [sys.executable, "-m", "identityserver", "serve", "--config", str(config), "--port", str(port)]
    command += ["--state-path", str(folder / "state"), "--log-level", "warning"]
    command += ["--tls-cert", str(server_cert), "--tls-key", str(server_key), "--tls-client-ca", str(client_ca)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    trust = ssl.create_default_context(cadata=SERVER_CA.pem)
    base = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(process.stdout.read().decode() if process.stdout else "exited")
            try:
                if httpx.get(f"{base}/.well-known/openid-configuration", verify=trust, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield base, trust
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def with_certificate(trust: ssl.SSLContext, folder: Path, certificate, name: str) -> ssl.SSLContext:
    cert_path, key_path = certificate.write(folder, name)
    context = ssl.create_default_context(cadata=SERVER_CA.pem)
    context.load_cert_chain(cert_path, key_path)
    return context


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    with serve_tls(folder) as (base, trust):
        yield base, trust, folder


def test_a_client_certificate_on_the_tls_connection_authenticates_and_binds(server):
    base, trust, folder = server
    with httpx.Client(verify=with_certificate(trust, folder, DN_CLIENT, "dn")) as client:
        discovery = client.get(f"{base}/.well-known/openid-configuration").json()
        response = client.post(
            discovery["mtls_endpoint_aliases"]["token_endpoint"], data={**CC, "client_id": "mtls.dn"}
        )
    assert discovery["issuer"] == base  # the issuer of a TLS server is https
    assert response.status_code == 200, response.text
    assert confirmation(response.json()["access_token"]) == {"x5t#S256": x5t(DN_CLIENT)}


def test_a_self_signed_certificate_listed_as_trusted_authenticates_self_signed_clients(server):
    base, trust, folder = server
    with httpx.Client(verify=with_certificate(trust, folder, SELF_SIGNED, "self")) as client:
        response = client.post(f"{base}/connect/token", data={**CC, "client_id": "mtls.self"})
    assert response.status_code == 200, response.text
    assert confirmation(response.json()["access_token"]) == {"x5t#S256": x5t(SELF_SIGNED)}


def test_without_a_certificate_the_connection_works_and_the_client_is_not_authenticated(server):
    base, trust, _ = server
    with httpx.Client(verify=trust) as client:
        discovery = client.get(f"{base}/.well-known/openid-configuration")
        response = client.post(f"{base}/connect/token", data={**CC, "client_id": "mtls.dn"})
        injected = client.post(
            f"{base}/connect/token",
            data={**CC, "client_id": "mtls.dn"},
            headers={"Client-Cert": DN_CLIENT.client_cert_header},  # nobody is a trusted proxy here
        )
    assert discovery.status_code == 200
    assert (response.status_code, response.json()["error"]) == (400, "invalid_client")
    assert (injected.status_code, injected.json()["error"]) == (400, "invalid_client")


@pytest.mark.parametrize(
    "certificate",
    [
        issue(make_ca("Forger CA"), "mtls.dn"),
        self_signed("mtls.dn"),
        expired(make_ca("Old CA"), "mtls.dn"),
    ],
    ids=["forged", "self-signed-untrusted", "expired"],
)
def test_untrusted_certificates_never_reach_the_app(server, certificate):
    base, trust, folder = server
    with (
        httpx.Client(verify=with_certificate(trust, folder, certificate, "bad")) as client,
        pytest.raises(httpx.TransportError),
    ):
        response = client.post(f"{base}/connect/token", data={**CC, "client_id": "mtls.dn"})
        response.read()  # TLS 1.3 reports a refused client certificate with the first read
