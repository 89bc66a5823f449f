"""Extension grants (RFC 6749 §4.5; Duende ``ExtensionGrantValidator``): the registered validator decides, then
scopes are validated as for any grant."""

from __future__ import annotations

from identityserver.constants import TokenErrors
from identityserver.validation.protocols import ExtensionGrantValidationContext, ExtensionGrantValidator
from identityserver.validation.results import TokenRequestValidationError, TokenRequestValidationResult, error
from identityserver.validation.token_request.common import (
    requested_scopes_and_resource,
    validate_resources,
)
from identityserver.validation.token_request.validator import GrantValidationContext


class ExtensionGrantRequestValidator:
    """Runs a registered ``ExtensionGrantValidator`` (RFC 6749 §4.5), then validates the requested scopes as for any
    grant."""

    def __init__(self, validator: ExtensionGrantValidator) -> None:
        self.validator = validator
        self.grant_type = validator.grant_type

    async def validate(
        self, context: GrantValidationContext
    ) -> TokenRequestValidationResult | TokenRequestValidationError:
        """The validated request with the subject the extension validator set, or its error (``invalid_grant`` when it
        gave none)."""
        request = context.request
        requested = requested_scopes_and_resource(context)
        if isinstance(requested, TokenRequestValidationError):
            return requested
        scopes, indicator = requested
        if not scopes:
            scopes = list(request.client.allowed_scopes)
        grant = ExtensionGrantValidationContext(request)
        await self.validator.validate(grant)
        if grant.result.is_error:
            return error(
                grant.result.error or TokenErrors.INVALID_GRANT,
                grant.result.error_description,
                custom_response=grant.result.custom_response,
            )
        request.subject = grant.result.subject
        failure = await validate_resources(context.resources, request, scopes, indicator)
        if failure is not None:
            return failure
        return TokenRequestValidationResult(request, custom_response=grant.result.custom_response)
