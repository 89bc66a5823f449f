"""``refresh_token`` grant (RFC 6749 §6; Duende ``ValidateRefreshTokenRequestAsync``)."""

from __future__ import annotations

import json

from identityserver.constants import StandardScopes, TokenErrors
from identityserver.models.grants import ProofType, RefreshToken
from identityserver.services.protocols import RefreshTokenService
from identityserver.validation.results import (
    TokenRequestValidationError,
    TokenRequestValidationResult,
    ValidatedTokenRequest,
    error,
)
from identityserver.validation.token_request.certificate_binding import refresh_certificate_binding_error
from identityserver.validation.token_request.common import (
    parse_requested_scopes,
    requested_resource_indicator,
    validate_resources,
)
from identityserver.validation.token_request.validator import GrantValidationContext


class RefreshTokenGrantValidator:
    """The ``refresh_token`` grant (RFC 6749 §6): the token must be valid for this client, its proof key kept, and the
    scopes no wider than granted."""

    grant_type = "refresh_token"

    def __init__(self, refresh_tokens: RefreshTokenService) -> None:
        self.refresh_tokens = refresh_tokens

    async def validate(
        self, context: GrantValidationContext
    ) -> TokenRequestValidationResult | TokenRequestValidationError:
        """The validated request with the stored refresh token, or the RFC 6749 §5.2 error."""
        request = context.request
        limits = context.options.input_length_restrictions
        handle = request.raw.get("refresh_token")
        if not handle:
            return error(TokenErrors.INVALID_REQUEST, "refresh_token is missing")
        if len(handle) > limits.refresh_token:
            return error(TokenErrors.INVALID_GRANT, "refresh_token is too long")
        validation = await self.refresh_tokens.validate_refresh_token(handle, request.client)
        token = validation.refresh_token
        if token is None:
            return error(validation.error or TokenErrors.INVALID_GRANT, validation.error_description)
        request.refresh_token = token
        request.refresh_token_handle = handle
        failure = self.validate_proof_binding(request, token)
        if failure is not None:
            return failure
        request.subject = token.subject
        request.session_id = token.session_id
        scopes = parse_requested_scopes(request.raw.get("scope"), limits.scope, context.scope_parser)
        if isinstance(scopes, TokenRequestValidationError):
            return scopes
        authorized = list(token.authorized_scopes)
        if scopes:
            if not set(scopes).issubset(authorized):
                return error(TokenErrors.INVALID_SCOPE, "scope exceeds what was originally granted")
        else:
            scopes = authorized
        indicator = requested_resource_indicator(request, limits.resource_indicator_max_length)
        if isinstance(indicator, TokenRequestValidationError):
            return indicator
        if indicator is not None and indicator not in (token.authorized_resource_indicators or []):
            return error(TokenErrors.INVALID_TARGET, "resource was not part of the original grant")
        failure = await validate_resources(context.resources, request, scopes, indicator)
        if failure is not None:
            return error(TokenErrors.INVALID_GRANT, "the granted scopes are no longer valid for this client")
        if StandardScopes.OFFLINE_ACCESS not in scopes and StandardScopes.OFFLINE_ACCESS in authorized:
            request.validated_resources.resources.offline_access = True  # keep the grant alive (RFC 6749 §6)
        return TokenRequestValidationResult(request)

    @staticmethod
    def validate_proof_binding(
        request: ValidatedTokenRequest, token: RefreshToken
    ) -> TokenRequestValidationError | None:
        """RFC 9449 §5: a DPoP-bound refresh token needs a proof; a proof cannot start on an unbound one; a
        public client must keep its key, a confidential client may present a new one. RFC 8705 §4 likewise for a
        certificate-bound one."""
        certificate_failure = refresh_certificate_binding_error(request, token)
        if certificate_failure is not None:
            return certificate_failure
        bound_jkt = bound_thumbprint(token)
        if bound_jkt is None:
            if request.dpop_jkt is not None:
                return error(TokenErrors.INVALID_REQUEST, "this refresh token is not bound to a DPoP key")
            return None
        if request.dpop_jkt is None:
            return error(TokenErrors.INVALID_DPOP_PROOF, "this refresh token requires a DPoP proof")
        if not request.client.require_client_secret and request.dpop_jkt != bound_jkt:
            return error(TokenErrors.INVALID_DPOP_PROOF, "the DPoP key does not match the one the token is bound to")
        return None


def bound_thumbprint(token: RefreshToken) -> str | None:
    """The DPoP key thumbprint a refresh token is bound to (from its access token's ``cnf``)."""
    if token.proof_type is not None and token.proof_type != ProofType.DPOP:
        return None
    access = token.access_tokens.get("")
    if access is None or not access.confirmation:
        return None
    try:
        cnf = json.loads(access.confirmation)
    except ValueError:
        return None
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    return jkt if isinstance(jkt, str) else None
