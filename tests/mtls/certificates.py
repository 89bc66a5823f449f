"""Certificates made per test run (RFC 8705 tests): a CA, CA-issued client and server certificates, self-signed
and expired ones, in the forms a TLS stack or a proxy hands over."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def client_cert_header(self) -> str:
        """RFC 9440 §2: an RFC 8941 byte sequence of the DER certificate."""
        return ":" + base64.b64encode(self.der).decode() + ":"

    @property
    def nginx_header(self) -> str:
        """nginx ``$ssl_client_escaped_cert``: the URL-escaped PEM."""
        return quote(self.pem, safe="")

    @property
    def sha1_hex(self) -> str:
        return self.certificate.fingerprint(hashes.SHA1()).hex()

    def write(self, folder: Path, name: str) -> tuple[Path, Path]:
        cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
        cert_path.write_text(self.pem)
        key_path.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return cert_path, key_path


def _name(cn: str, org: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attributes)


def _build(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: Issued | None,
    *,
    ca: bool = False,
    dns: list[str] | None = None,
    ips: list[str] | None = None,
    emails: list[str] | None = None,
    uris: list[str] | None = None,
    usage: x509.ObjectIdentifier = ExtendedKeyUsageOID.CLIENT_AUTH,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Issued:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - dt.timedelta(days=1))
        .not_valid_after(not_after or NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns or []]
        names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips or []]
        names += [x509.RFC822Name(e) for e in emails or []]
        names += [x509.UniformResourceIdentifier(u) for u in uris or []]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def make_ca(cn: str = "Test Client CA") -> Issued:
    return _build(_name(cn), ec.generate_private_key(ec.SECP256R1()), None, ca=True)


def issue(ca: Issued, cn: str, org: str | None = "Example", **kwargs: object) -> Issued:
    return _build(_name(cn, org), ec.generate_private_key(ec.SECP256R1()), ca, **kwargs)  # type: ignore[arg-type]


def self_signed(cn: str, org: str | None = "Example") -> Issued:
    return _build(_name(cn, org), ec.generate_private_key(ec.SECP256R1()), None)


def expired(ca: Issued, cn: str, org: str | None = "Example") -> Issued:
    return issue(ca, cn, org, not_before=NOW - dt.timedelta(days=60), not_after=NOW - dt.timedelta(days=1))
