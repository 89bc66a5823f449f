"""Certificate-bound tokens at the token endpoint (RFC 8705 §3, §4): the tokens of a request are bound to its
client certificate (``cnf.x5t#S256``) when the client authenticated with it, asked for it
(``tls_client_certificate_bound_access_tokens``), or ``always_emit_confirmation_claim`` is on. One confirmation
mechanism per request: a certificate that would bind and a DPoP proof together are ``invalid_request``."""

from __future__ import annotations

import json

from identityserver.constants import TokenErrors
from identityserver.crypto.certificates import bound_certificate_thumbprint, certificate_confirmation
from identityserver.http.request import EndpointRequest
from identityserver.models.grants import ProofType, RefreshToken
from identityserver.options import MutualTlsOptions
from identityserver.validation.client_secrets.mutual_tls import MUTUAL_TLS_METHODS
from identityserver.validation.results import TokenRequestValidationError, ValidatedTokenRequest, error
from identityserver.validation.token_request.validator import ProofValidator


def is_certificate_bound(request: ValidatedTokenRequest) -> bool:
    """Whether the tokens of a validated token request are bound to the client certificate (for profiles such as
    FAPI 2.0 that accept mTLS as the sender constraint)."""
    return request.proof_type == ProofType.CLIENT_CERTIFICATE


class CertificateBindingProofValidator:
    """The token request's proof step with mutual TLS: binds to the certificate, or runs the DPoP step."""

    def __init__(self, dpop: ProofValidator, options: MutualTlsOptions) -> None:
        self.dpop = dpop
        self.options = options

    def binds(self, http: EndpointRequest, request: ValidatedTokenRequest) -> bool:
        """Whether this request's tokens are bound to its certificate (Duende: the mTLS secret validators'
        confirmation, or ``AlwaysEmitConfirmationClaim``)."""
        if http.client_certificate is None:
            return False
        authenticated_with_certificate = request.secret is not None and request.secret.type in MUTUAL_TLS_METHODS
        return (
            authenticated_with_certificate
            or request.client.tls_client_certificate_bound_access_tokens
            or self.options.always_emit_confirmation_claim
        )

    async def validate_token_request_proof(
        self, http: EndpointRequest, request: ValidatedTokenRequest
    ) -> TokenRequestValidationError | None:
        """Record the certificate binding on ``request``, or the DPoP step's binding, or return the error."""
        certificate = http.client_certificate
        binds = self.binds(http, request)
        if binds and http.header_values("dpop"):
            return error(
                TokenErrors.INVALID_REQUEST,
                "only one confirmation mechanism is allowed at a time: the client certificate or a DPoP proof",
            )
        if certificate is None and request.client.tls_client_certificate_bound_access_tokens:
            return error(
                TokenErrors.INVALID_REQUEST,
                "the client asks for certificate-bound tokens (tls_client_certificate_bound_access_tokens) and "
                "presented no client certificate",
            )
        failure = await self.dpop.validate_token_request_proof(http, request)
        if failure is not None or not binds or certificate is None:
            return failure
        request.confirmation = certificate_confirmation(certificate)
        request.proof_type = int(ProofType.CLIENT_CERTIFICATE)
        return None


def refresh_token_certificate(token: RefreshToken) -> str | None:
    """The ``x5t#S256`` a refresh token is bound to (from its access token's ``cnf``), if any."""
    if token.proof_type not in (None, ProofType.CLIENT_CERTIFICATE):
        return None
    access = token.access_tokens.get("")
    if access is None or not access.confirmation:
        return None
    try:
        cnf = json.loads(access.confirmation)
    except ValueError:
        return None
    return bound_certificate_thumbprint(cnf) if isinstance(cnf, dict) else None


def refresh_certificate_binding_error(
    request: ValidatedTokenRequest, token: RefreshToken
) -> TokenRequestValidationError | None:
    """RFC 8705 §4 (and 6.3's proof-type rules): a certificate-bound refresh token needs a certificate binding on
    every refresh, never switches to DPoP, and a public client must present the same certificate; binding cannot
    start on an unbound token."""
    bound = refresh_token_certificate(token)
    if bound is None:
        if is_certificate_bound(request):
            return error(TokenErrors.INVALID_REQUEST, "this refresh token is not bound to a client certificate")
        return None
    if request.dpop_jkt is not None:
        return error(TokenErrors.INVALID_REQUEST, "a certificate-bound refresh token cannot be used with DPoP")
    if not is_certificate_bound(request):
        return error(TokenErrors.INVALID_REQUEST, "this refresh token needs the client certificate it is bound to")
    presented = bound_certificate_thumbprint(json.loads(request.confirmation or "{}"))
    if not request.client.require_client_secret and presented != bound:
        return error(TokenErrors.INVALID_GRANT, "the client certificate is not the one the refresh token is bound to")
    return None
