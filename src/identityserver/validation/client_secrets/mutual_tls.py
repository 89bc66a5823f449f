"""Mutual TLS client authentication (RFC 8705 §2; Duende ``MutualTlsSecretParser``, ``X509NameSecretValidator``,
``X509ThumbprintSecretValidator``): the client sends its ``client_id`` and proves itself with the certificate of
the TLS connection (or of the trusted proxy that terminated it)."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Sequence

from identityserver.clock import Clock
from identityserver.constants import SecretTypes, TokenEndpointAuthMethods
from identityserver.crypto.certificates import (
    CertificateError,
    ClientCertificate,
    distinguished_names_equal,
    ip_addresses_equal,
)
from identityserver.crypto.jwk import JwkError, jwk_thumbprint, parse_jwk_json
from identityserver.models.client import Client, Secret
from identityserver.validation.results import ParsedSecret, SecretValidationResult

MUTUAL_TLS_METHODS = frozenset(
    {TokenEndpointAuthMethods.TLS_CLIENT_AUTH, TokenEndpointAuthMethods.SELF_SIGNED_TLS_CLIENT_AUTH}
)
#: ``X509Name`` values naming a subject alternative name instead of the subject DN (RFC 8705 §2.1.2
#: ``tls_client_auth_san_dns``, ``_san_uri``, ``_san_ip``, ``_san_email``).
SAN_PREFIXES = ("dns:", "uri:", "ip:", "email:")
_CERTIFICATE_SECRETS = (SecretTypes.X509_THUMBPRINT, SecretTypes.X509_CERTIFICATE_BASE64)


def certificate_auth_methods(client: Client) -> set[str]:
    """The RFC 8705 methods a confidential client without a registered method may use, from its secrets."""
    methods: set[str] = set()
    if any(s.type == SecretTypes.X509_NAME for s in client.client_secrets):
        methods.add(TokenEndpointAuthMethods.TLS_CLIENT_AUTH)
    if any(s.type in _CERTIFICATE_SECRETS for s in client.client_secrets):
        methods.add(TokenEndpointAuthMethods.SELF_SIGNED_TLS_CLIENT_AUTH)
    return methods


def _normalized_thumbprint(value: str) -> str:
    return "".join(ch for ch in value if ch not in ": \t").upper()


def _decode_base64(value: str) -> bytes | None:
    text = "".join(value.split())
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if "-" in text or "_" in text else None)
    except (binascii.Error, ValueError):
        return None


class MutualTlsSecretValidator:
    """Authenticates ``tls_client_auth`` (a CA-issued certificate whose subject DN or SAN is registered as an
    ``X509Name`` secret) and ``self_signed_tls_client_auth`` (a certificate registered as an ``X509Thumbprint``,
    an ``X509CertificateBase64`` or a JWK with its key or ``x5c``). Expired certificates never authenticate; a
    self-signed certificate is refused for ``tls_client_auth`` (RFC 8705 §2.1 relies on a PKI)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    @staticmethod
    def select_method(client: Client, secret: ParsedSecret, certificate: bytes | None) -> None:
        """A request with only ``client_id`` and a certificate authenticates with the client's certificate method
        (RFC 8705 §2: the ``client_id`` parameter identifies the client)."""
        if certificate is None or secret.type != TokenEndpointAuthMethods.NONE:
            return
        registered = client.token_endpoint_auth_method
        if registered in MUTUAL_TLS_METHODS:
            secret.type = registered
        elif registered is None and client.require_client_secret:
            methods = certificate_auth_methods(client)
            if methods:
                secret.type = min(methods)  # "self_signed..." < "tls_client_auth": a registered thumbprint first

    async def validate(
        self, secrets: Sequence[Secret], certificate: bytes | None, method: str
    ) -> SecretValidationResult:
        """Whether ``certificate`` authenticates the client with ``method``."""
        if certificate is None:
            return SecretValidationResult(False, error_description="no client certificate was presented")
        try:
            cert = ClientCertificate.from_der(certificate)
        except CertificateError as error:
            return SecretValidationResult(False, error_description=str(error))
        now = self.clock.utc_now()
        if not cert.is_valid_at(now):
            return SecretValidationResult(False, error_description="the client certificate is expired or not yet valid")
        current = [s for s in secrets if not s.is_expired(now)]
        if method == TokenEndpointAuthMethods.TLS_CLIENT_AUTH:
            if cert.is_self_signed():
                return SecretValidationResult(False, error_description="tls_client_auth needs a CA-issued certificate")
            matched = any(self.name_matches(s.value, cert) for s in current if s.type == SecretTypes.X509_NAME)
        else:
            matched = any(self.certificate_matches(s, cert) for s in current)
        if not matched:
            return SecretValidationResult(False, error_description="the client certificate is not registered")
        return SecretValidationResult(True, confirmation=cert.x5t_s256)

    @staticmethod
    def name_matches(registered: str, cert: ClientCertificate) -> bool:
        """An ``X509Name`` secret: ``dns:``/``uri:``/``ip:``/``email:`` name a SAN, anything else the subject DN."""
        kind, sep, value = registered.partition(":")
        if sep and registered.lower().startswith(SAN_PREFIXES):
            names = cert.subject_alternative_names()[kind.lower()]
            if kind.lower() == "ip":
                return any(ip_addresses_equal(value, name) for name in names)
            if kind.lower() == "uri":
                return value.strip() in names
            return value.strip().lower() in names
        return distinguished_names_equal(registered, cert.subject_dn)

    @staticmethod
    def certificate_matches(secret: Secret, cert: ClientCertificate) -> bool:
        """A registered certificate, thumbprint (SHA-1 or SHA-256 hex as IdentityServer, or ``x5t#S256``) or key."""
        value = secret.value.strip()
        if secret.type == SecretTypes.X509_THUMBPRINT:
            hexed = _normalized_thumbprint(value)
            # bytes: compare_digest refuses non-ASCII text, and a registered value may hold any character
            return any(
                hmac.compare_digest(hexed.encode(), candidate.encode())
                for candidate in (cert.sha1_thumbprint, cert.sha256_thumbprint)
            ) or hmac.compare_digest(value.encode(), cert.x5t_s256.encode())
        if secret.type == SecretTypes.X509_CERTIFICATE_BASE64:
            return _decode_base64(value) == cert.der
        if secret.type == SecretTypes.JSON_WEB_KEY:
            try:
                jwk = parse_jwk_json(value)
                chain = jwk.get("x5c")
                if isinstance(chain, list) and chain and isinstance(chain[0], str):
                    return base64.b64decode(chain[0]) == cert.der
                return jwk_thumbprint(jwk) == cert.public_key_thumbprint()
            except (JwkError, binascii.Error, ValueError, KeyError):
                return False
        return False
