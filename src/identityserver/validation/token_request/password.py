"""``password`` grant (RFC 6749 §4.3; Duende ``ValidateResourceOwnerCredentialRequestAsync``). Only available
when a ``ResourceOwnerPasswordValidator`` is registered and the client allows it (RFC 9700 §2.4 discourages it)."""

from __future__ import annotations

from identityserver.constants import StandardScopes, TokenErrors
from identityserver.services.protocols import LoginThrottle
from identityserver.validation.protocols import ResourceOwnerPasswordValidationContext, ResourceOwnerPasswordValidator
from identityserver.validation.results import TokenRequestValidationError, TokenRequestValidationResult, error
from identityserver.validation.token_request.common import (
    requested_scopes_and_resource,
    validate_resources,
)
from identityserver.validation.token_request.validator import GrantValidationContext


class PasswordGrantValidator:
    """The ``password`` grant (RFC 6749 §4.3): length limits, the login throttle (§10.10), then the
    ``ResourceOwnerPasswordValidator``."""

    grant_type = "password"

    def __init__(self, validator: ResourceOwnerPasswordValidator, throttle: LoginThrottle | None = None) -> None:
        self.validator = validator
        self.throttle = throttle

    async def validate(
        self, context: GrantValidationContext
    ) -> TokenRequestValidationResult | TokenRequestValidationError:
        """The validated request with the user the password validator returned, or ``invalid_grant``."""
        request = context.request
        limits = context.options.input_length_restrictions
        username = request.raw.get("username")
        password = request.raw.get("password") or ""
        if not username:
            return error(TokenErrors.INVALID_GRANT, "username is missing")
        if len(username) > limits.user_name or len(password) > limits.password:
            return error(TokenErrors.INVALID_GRANT, "username or password is too long")
        requested = requested_scopes_and_resource(context)
        if isinstance(requested, TokenRequestValidationError):
            return requested
        scopes, indicator = requested
        if not scopes:
            scopes = [s for s in request.client.allowed_scopes if s != StandardScopes.OFFLINE_ACCESS]
        failure = await validate_resources(context.resources, request, scopes, indicator)
        if failure is not None:
            return failure
        address = context.http.remote_ip or "-"
        if self.throttle is not None and await self.throttle.blocked(username, address):
            # RFC 6749 §4.3.2: protect the endpoint against brute force; the same limits as the login page
            return error(TokenErrors.INVALID_GRANT, "too many failed attempts, try again later")
        grant = ResourceOwnerPasswordValidationContext(username, password, request)
        await self.validator.validate(grant)
        if self.throttle is not None:
            if grant.result.is_error or grant.result.subject is None:
                await self.throttle.failed(username, address)
            else:
                await self.throttle.succeeded(username, address)
        if grant.result.is_error or grant.result.subject is None:
            return error(
                grant.result.error or TokenErrors.INVALID_GRANT,
                grant.result.error_description or "invalid_username_or_password",
                custom_response=grant.result.custom_response,
            )
        request.subject = grant.result.subject
        return TokenRequestValidationResult(request, custom_response=grant.result.custom_response)
