"""``client_credentials`` grant (RFC 6749 §4.4; Duende ``ValidateClientCredentialsRequestAsync``)."""

from __future__ import annotations

from identityserver.constants import StandardScopes, TokenErrors
from identityserver.validation.results import TokenRequestValidationError, TokenRequestValidationResult, error
from identityserver.validation.token_request.common import (
    requested_scopes_and_resource,
    validate_resources,
)
from identityserver.validation.token_request.validator import GrantValidationContext


class ClientCredentialsGrantValidator:
    """The ``client_credentials`` grant (RFC 6749 §4.4): confidential clients only; without ``scope``, every API scope
    the client is allowed."""

    grant_type = "client_credentials"

    async def validate(
        self, context: GrantValidationContext
    ) -> TokenRequestValidationResult | TokenRequestValidationError:
        """The validated request with its resources, or the RFC 6749 §5.2 error."""
        request = context.request
        client = request.client
        if not client.require_client_secret:
            return error(TokenErrors.UNAUTHORIZED_CLIENT, "public clients cannot use client_credentials")
        requested = requested_scopes_and_resource(context)
        if isinstance(requested, TokenRequestValidationError):
            return requested
        scopes, indicator = requested
        if not scopes:
            # no scope: every API scope the client is allowed (Duende behaviour)
            api_scopes = await context.resources.store.find_api_scopes_by_name(client.allowed_scopes)
            scopes = [s.name for s in api_scopes if s.enabled]
            if not scopes:
                return error(TokenErrors.INVALID_SCOPE, "the client has no API scopes to request")
        if StandardScopes.OFFLINE_ACCESS in scopes:
            return error(TokenErrors.INVALID_SCOPE, "offline_access is not allowed with client_credentials")
        failure = await validate_resources(context.resources, request, scopes, indicator)
        if failure is not None:
            return failure
        if request.validated_resources.resources.identity_resources:
            return error(TokenErrors.INVALID_SCOPE, "identity scopes are not allowed with client_credentials")
        if indicator and not request.validated_resources.resources.api_resources:
            return error(TokenErrors.INVALID_TARGET, "the resource is not reachable with the requested scopes")
        return TokenRequestValidationResult(request)
