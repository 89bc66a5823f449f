"""X.509 client certificates for mutual TLS (RFC 8705): parsing, thumbprints, names and the ``x5t#S256``
confirmation of certificate-bound tokens."""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding

from identityserver._utils.b64 import b64url_encode
from identityserver.crypto.jwk import JwkError, jwk_thumbprint, public_jwk

if TYPE_CHECKING:
    # imported where a certificate is parsed: a server without mTLS never loads it (about 1 MiB of a worker)
    from cryptography import x509

X5T_S256 = "x5t#S256"
"""The confirmation member of a certificate-bound token (RFC 8705 §3.1)."""
MAX_CERTIFICATE_BYTES = 16384
"""Larger certificates are refused before parsing (a client certificate is a few kilobytes)."""


class CertificateError(ValueError):
    """Bytes that are not one X.509 certificate."""


@dataclass(frozen=True, slots=True)
class ClientCertificate:
    """A parsed client certificate and what client authentication compares."""

    der: bytes
    certificate: x509.Certificate

    @classmethod
    def from_der(cls, der: bytes) -> ClientCertificate:
        if not der or len(der) > MAX_CERTIFICATE_BYTES:
            raise CertificateError("not a certificate of an acceptable size")
        from cryptography import x509

        try:
            return cls(der, x509.load_der_x509_certificate(der))
        except ValueError as error:
            raise CertificateError(f"not a DER certificate: {error}") from None

    @property
    def x5t_s256(self) -> str:
        return certificate_thumbprint(self.der)

    @property
    def sha1_thumbprint(self) -> str:
        """Upper-case hex SHA-1 of the DER bytes (IdentityServer's ``X509Thumbprint`` secret value)."""
        return hashlib.sha1(self.der, usedforsecurity=False).hexdigest().upper()

    @property
    def sha256_thumbprint(self) -> str:
        return hashlib.sha256(self.der).hexdigest().upper()

    @property
    def subject_dn(self) -> str:
        """The subject in RFC 4514 form (most specific RDN first)."""
        return self.certificate.subject.rfc4514_string()

    def subject_alternative_names(self) -> dict[str, list[str]]:
        """SANs by RFC 8705 §2.1.2 kind: ``dns``, ``uri``, ``ip``, ``email``."""
        from cryptography import x509

        try:
            san = self.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except (x509.ExtensionNotFound, ValueError):
            return {"dns": [], "uri": [], "ip": [], "email": []}
        return {
            "dns": [value.lower() for value in san.get_values_for_type(x509.DNSName)],
            "uri": list(san.get_values_for_type(x509.UniformResourceIdentifier)),
            "ip": [str(value) for value in san.get_values_for_type(x509.IPAddress)],
            "email": [value.lower() for value in san.get_values_for_type(x509.RFC822Name)],
        }

    def is_valid_at(self, now: datetime) -> bool:
        return self.certificate.not_valid_before_utc <= now <= self.certificate.not_valid_after_utc

    def is_self_signed(self) -> bool:
        """Issued by its own key (RFC 8705 §2.2): subject equals issuer and the signature verifies with the
        certificate's own public key."""
        if self.certificate.issuer != self.certificate.subject:
            return False
        try:
            self.certificate.verify_directly_issued_by(self.certificate)
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True

    def public_key_thumbprint(self) -> str | None:
        """The RFC 7638 thumbprint of the certificate's public key (``None`` for a key type JWKs lack here)."""
        try:
            return jwk_thumbprint(public_jwk(self.certificate.public_key()))  # type: ignore[arg-type]
        except (JwkError, TypeError, ValueError):
            return None


def certificate_thumbprint(der: bytes) -> str:
    """``x5t#S256``: base64url of the SHA-256 of the DER certificate (RFC 8705 §3.1)."""
    return b64url_encode(hashlib.sha256(der).digest())


def certificate_confirmation(der: bytes) -> str:
    """The ``cnf`` value (JSON) that binds a token to the certificate."""
    return json.dumps({X5T_S256: certificate_thumbprint(der)}, separators=(",", ":"))


def pem_to_der(pem: str) -> bytes:
    """The first certificate of a PEM text; ``CertificateError`` when there is none."""
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii")).public_bytes(Encoding.DER)
    except (ValueError, UnicodeEncodeError) as error:
        raise CertificateError(f"not a PEM certificate: {error}") from None


def leaf_certificate(chain: object) -> bytes | None:
    """The DER leaf of an ASGI TLS extension ``client_cert_chain`` (PEM strings, leaf first); ``None`` without a
    usable one."""
    if not isinstance(chain, (list, tuple)) or not chain:
        return None
    try:
        return pem_to_der(str(chain[0]))
    except CertificateError:
        return None


def bound_certificate_thumbprint(confirmation: Mapping[str, Any] | None) -> str | None:
    """The ``x5t#S256`` of a token's ``cnf`` claim, if it is certificate-bound."""
    value = confirmation.get(X5T_S256) if confirmation else None
    return value if isinstance(value, str) else None


def certificate_matches_confirmation(confirmation: Mapping[str, Any] | None, der: bytes | None) -> bool:
    """Whether a request's certificate is the one a certificate-bound token names (RFC 8705 §3); ``True`` for a
    token that is not certificate-bound."""
    expected = bound_certificate_thumbprint(confirmation)
    if expected is None:
        return True
    return der is not None and certificate_thumbprint(der) == expected


def _normalize_rdns(dn: str) -> list[str]:
    parts, current, escaped = [], [], False
    for char in dn:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char in ",;":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    normalized = []
    for part in parts:
        name, sep, value = part.partition("=")
        if not sep:
            return []
        normalized.append(f"{name.strip().upper()}={value.strip().casefold()}")
    return normalized


def distinguished_names_equal(registered: str, presented: str) -> bool:
    """Compare a registered subject DN with a certificate's (RFC 4514 strings; case-insensitive values, spacing
    ignored, in either RDN order since some stacks print the most specific RDN last)."""
    left, right = _normalize_rdns(registered), _normalize_rdns(presented)
    return bool(left) and (left == right or left == right[::-1])


def ip_addresses_equal(registered: str, presented: str) -> bool:
    try:
        return ipaddress.ip_address(registered.strip()) == ipaddress.ip_address(presented)
    except ValueError:
        return False
