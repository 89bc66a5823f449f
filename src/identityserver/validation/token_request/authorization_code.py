"""``authorization_code`` grant, token half (RFC 6749 §4.1.3, RFC 7636 §4.6; Duende
``ValidateAuthorizationCodeRequestAsync``). The code is consumed before any other check, so a failed attempt
burns it (RFC 6749 §10.5)."""

from __future__ import annotations

from identityserver.constants import TokenErrors
from identityserver.crypto.hashing import constant_time_equals
from identityserver.models.contexts import IsActiveContext, ProfileCallers
from identityserver.services.protocols import AuthorizationCodeService, ProfileService
from identityserver.validation.pkce import is_valid_pkce_value, verifier_matches
from identityserver.validation.results import TokenRequestValidationError, TokenRequestValidationResult, error
from identityserver.validation.token_request.common import requested_resource_indicator, validate_resources
from identityserver.validation.token_request.validator import GrantValidationContext


class AuthorizationCodeGrantValidator:
    """The ``authorization_code`` grant (RFC 6749 §4.1.3): redeems the code once, then checks client, redirect URI, PKCE
    (RFC 7636 §4.6), DPoP key binding and the user; override ``validate`` to add a check."""

    grant_type = "authorization_code"

    def __init__(self, codes: AuthorizationCodeService, profile: ProfileService) -> None:
        self.codes = codes
        self.profile = profile

    async def validate(
        self, context: GrantValidationContext
    ) -> TokenRequestValidationResult | TokenRequestValidationError:
        """The validated request with the redeemed code and the user, or the RFC 6749 §5.2 error."""
        request = context.request
        limits = context.options.input_length_restrictions
        handle = request.raw.get("code")
        if not handle:
            return error(TokenErrors.INVALID_REQUEST, "code is missing")
        if len(handle) > limits.authorization_code:
            return error(TokenErrors.INVALID_GRANT, "code is too long")
        redemption = await self.codes.redeem(handle)
        code = redemption.code
        if code is None:
            return error(TokenErrors.INVALID_GRANT, "code is invalid, expired or already used")
        request.authorization_code = code
        request.authorization_code_handle = handle
        if code.client_id != request.client.client_id:
            return error(TokenErrors.INVALID_GRANT, "code was issued to another client")
        if (
            code.creation_time + min(code.lifetime, request.client.authorization_code_lifetime)
            < context.clock.timestamp()
        ):
            return error(TokenErrors.INVALID_GRANT, "code expired")
        redirect_uri = request.raw.get("redirect_uri")
        if redirect_uri is None or not constant_time_equals(redirect_uri, code.redirect_uri):
            return error(TokenErrors.INVALID_GRANT, "redirect_uri does not match the authorization request")
        failure = self.validate_pkce(context, code.code_challenge, code.code_challenge_method)
        if failure is not None:
            return failure
        if code.dpop_key_thumbprint is not None and request.dpop_jkt != code.dpop_key_thumbprint:
            # RFC 9449 §10: a code bound with dpop_jkt needs a proof with that key
            return error(TokenErrors.INVALID_DPOP_PROOF, "the DPoP key does not match dpop_jkt of the request")
        indicator = requested_resource_indicator(request, limits.resource_indicator_max_length)
        if isinstance(indicator, TokenRequestValidationError):
            return indicator
        if indicator is not None and indicator not in code.requested_resource_indicators:
            return error(TokenErrors.INVALID_TARGET, "resource was not part of the authorization request")
        failure = await validate_resources(context.resources, request, code.requested_scopes, indicator)
        if failure is not None:
            return error(TokenErrors.INVALID_GRANT, "the granted scopes are no longer valid for this client")
        request.subject = code.subject
        request.session_id = code.session_id
        active = IsActiveContext(code.subject, request.client, ProfileCallers.TOKEN_ENDPOINT)
        await self.profile.is_active(active)
        if not active.is_active:
            return error(TokenErrors.INVALID_GRANT, "the user is not active")
        return TokenRequestValidationResult(request)

    @staticmethod
    def validate_pkce(
        context: GrantValidationContext, challenge: str | None, method: str | None
    ) -> TokenRequestValidationError | None:
        """RFC 7636 §4.6; a verifier without a challenge is a downgrade attempt (RFC 9700 §4.8)."""
        limits = context.options.input_length_restrictions
        verifier = context.request.raw.get("code_verifier")
        if challenge is None:
            if verifier is not None:
                return error(TokenErrors.INVALID_GRANT, "code_verifier sent but no code_challenge was used")
            if context.request.client.require_pkce:
                return error(TokenErrors.INVALID_GRANT, "the client requires PKCE")
            return None
        if verifier is None:
            return error(TokenErrors.INVALID_GRANT, "code_verifier is missing")
        if not is_valid_pkce_value(verifier, limits.code_verifier_min_length, limits.code_verifier_max_length):
            return error(TokenErrors.INVALID_GRANT, "code_verifier is malformed")
        if not verifier_matches(verifier, challenge, method or "plain"):
            return error(TokenErrors.INVALID_GRANT, "code_verifier does not match the code_challenge")
        context.request.code_verifier = verifier
        return None
