"""Client secrets that name a certificate (RFC 8705 §2; IdentityServer's ``X509Name``, ``X509Thumbprint`` and
``X509CertificateBase64`` secret types), read from ``client_secrets = [{ type = ..., value = ... }]``."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from identityserver.configuration.errors import Where
from identityserver.constants import SecretTypes

CERTIFICATE_SECRET_TYPES = (SecretTypes.X509_NAME, SecretTypes.X509_THUMBPRINT, SecretTypes.X509_CERTIFICATE_BASE64)


def certificate_secret_value(secret_type: str, raw: Any, where: Where, name: str) -> str:
    """The stored value of a certificate secret; a ``ConfigError`` for an unknown type or a malformed value."""
    if secret_type not in CERTIFICATE_SECRET_TYPES:
        raise where.error(
            name,
            f"unsupported secret type {secret_type!r} (use SharedSecret, JWK, X509Name, X509Thumbprint or "
            "X509CertificateBase64)",
        )
    if not isinstance(raw, str) or not raw.strip():
        raise where.error(name, f"a {secret_type} secret needs a non-empty string value")
    value = raw.strip()
    if secret_type == SecretTypes.X509_THUMBPRINT:
        hexed = "".join(ch for ch in value if ch not in ": ")
        is_hex = all(ch in "0123456789abcdefABCDEF" for ch in hexed) and len(hexed) in (40, 64)
        if not is_hex and len(value) != 43:  # SHA-1 or SHA-256 hex, or the base64url x5t#S256
            raise where.error(name, "an X509Thumbprint is the SHA-1 or SHA-256 hex (or x5t#S256) of the certificate")
    elif secret_type == SecretTypes.X509_CERTIFICATE_BASE64:
        from cryptography import x509  # only here: a configuration without such a secret never loads it

        try:
            x509.load_der_x509_certificate(base64.b64decode("".join(value.split()), validate=True))
        except (binascii.Error, ValueError) as error:
            raise where.error(name, f"not a base64 DER certificate: {error}") from None
    return value


__all__ = ["CERTIFICATE_SECRET_TYPES", "certificate_secret_value"]
