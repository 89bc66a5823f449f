"""``cryptography.x509`` (about 1 MiB of a worker's RSS) is loaded where a certificate is parsed: a server with no
certificate secret that is not asked for mutual TLS never loads it; one whose configuration has a certificate
secret does, to check it."""

from __future__ import annotations

import base64
import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.worker_modules import modules_after_tokens, modules_when_built

X509 = ("cryptography.x509",)


def certificate_base64() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def test_a_server_without_certificates_serves_tokens_without_loading_x509(tmp_path: Path) -> None:
    # the child issued a reference token and introspected it active (it fails otherwise)
    assert modules_after_tokens(tmp_path, "", {"x509": X509})["x509"] == []


def test_a_certificate_secret_in_the_configuration_is_parsed_with_x509(tmp_path: Path) -> None:
    client = f"""
[[clients]]
client_id = "mtls"
client_secrets = [{{ type = "X509CertificateBase64", value = "{certificate_base64()}" }}]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
"""
    assert "cryptography.x509" in modules_when_built(tmp_path, "", {"x509": X509}, extra=client)["x509"]
