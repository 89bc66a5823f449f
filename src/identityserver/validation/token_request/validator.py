"""The token request validator (Duende ``TokenRequestValidator``): shared checks, then a dispatch table
``{grant_type: validator}``, then the custom validators (Duende ``ICustomTokenRequestValidator``) in registration
order. It returns a :class:`TokenRequestValidationResult` (a success) or a :class:`TokenRequestValidationError`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from identityserver.clock import Clock
from identityserver.constants import GrantType, TokenErrors
from identityserver.http.parameters import Parameters
from identityserver.http.request import EndpointRequest
from identityserver.models.client import Client
from identityserver.options import IdentityServerOptions
from identityserver.validation.protocols import (
    CustomTokenRequestValidationContext,
    CustomTokenRequestValidator,
)
from identityserver.validation.resources import DefaultResourceValidator
from identityserver.validation.results import (
    ClientSecretValidationResult,
    TokenRequestValidationError,
    TokenRequestValidationResult,
    ValidatedTokenRequest,
    error,
)
from identityserver.validation.scopes import DefaultScopeParser


@dataclass(slots=True)
class GrantValidationContext:
    """What a grant validator gets: the request being validated and the shared collaborators."""

    http: EndpointRequest
    request: ValidatedTokenRequest
    options: IdentityServerOptions
    resources: DefaultResourceValidator
    scope_parser: DefaultScopeParser
    clock: Clock


class GrantValidator(Protocol):
    """Validates the parameters of one grant type at the token endpoint (RFC 6749 §4)."""

    grant_type: str

    async def validate(
        self, context: GrantValidationContext
    ) -> TokenRequestValidationResult | TokenRequestValidationError:
        """The validated request, or the error to answer (RFC 6749 §5.2)."""


class ProofValidator(Protocol):
    """Validates sender-constraint proofs (DPoP) before the grant runs; see ``validation/dpop.py``."""

    async def validate_token_request_proof(
        self, http: EndpointRequest, request: ValidatedTokenRequest
    ) -> TokenRequestValidationError | None:
        """Record the proof's binding on ``request``, or return the error (RFC 9449 §5, RFC 8705 §3)."""


def client_allows_grant(client: Client, grant_type: str) -> bool:
    if grant_type == GrantType.AUTHORIZATION_CODE:
        return GrantType.AUTHORIZATION_CODE in client.allowed_grant_types or (
            GrantType.HYBRID in client.allowed_grant_types
        )
    if grant_type == GrantType.REFRESH_TOKEN:
        return client.allow_offline_access
    return grant_type in client.allowed_grant_types


class TokenRequestValidator:
    """Validates token requests (Duende ``TokenRequestValidator``; RFC 6749 §4, §6): ``grant_type``, the DPoP proof, the
    grant's own validator from ``grants``, then the custom validators."""

    def __init__(
        self,
        grants: dict[str, GrantValidator],
        options: IdentityServerOptions,
        resources: DefaultResourceValidator,
        clock: Clock,
        custom_validators: Sequence[CustomTokenRequestValidator] = (),
        proof_validator: ProofValidator | None = None,
    ) -> None:
        self.grants = grants
        self.options = options
        self.resources = resources
        self.clock = clock
        self.custom_validators = list(custom_validators or ())
        self.proof_validator = proof_validator

    async def validate_request(
        self, http: EndpointRequest, parameters: Parameters, client_result: ClientSecretValidationResult
    ) -> TokenRequestValidationResult | TokenRequestValidationError:
        """Validate a request of an authenticated client (the endpoint answers a failed ``client_result``)."""
        client = client_result.client
        if client is None:
            raise ValueError("validate_request needs an authenticated client; check client_result.is_error first")
        grant_type = parameters.get("grant_type")
        if not grant_type:
            return error(TokenErrors.INVALID_REQUEST, "grant_type is missing")
        if len(grant_type) > self.options.input_length_restrictions.grant_type:
            return error(TokenErrors.UNSUPPORTED_GRANT_TYPE, "grant_type is too long")
        validator = self.grants.get(grant_type)
        if validator is None:
            return error(TokenErrors.UNSUPPORTED_GRANT_TYPE, "the grant type is not supported")
        if not client_allows_grant(client, grant_type):
            return error(TokenErrors.UNAUTHORIZED_CLIENT, "the client is not allowed to use this grant type")
        request = ValidatedTokenRequest(
            raw=parameters,
            client=client,
            grant_type=grant_type,
            issuer=http.issuer,
            secret=client_result.secret,
            access_token_lifetime=client.access_token_lifetime,
            access_token_type=int(client.access_token_type),
        )
        if self.proof_validator is not None:
            failure = await self.proof_validator.validate_token_request_proof(http, request)
            if failure is not None:
                return failure
        context = GrantValidationContext(
            http, request, self.options, self.resources, self.resources.scope_parser, self.clock
        )
        result = await validator.validate(context)
        if isinstance(result, TokenRequestValidationError):
            result.dpop_nonce = result.dpop_nonce or request.dpop_nonce
            return result
        return await self.run_custom_validators(result)

    async def run_custom_validators(
        self, result: TokenRequestValidationResult
    ) -> TokenRequestValidationResult | TokenRequestValidationError:
        """Run the custom validators in registration order, after every built-in check passed; the first one
        that rejects the request (``is_error`` or ``error`` set on ``context.result``) ends validation."""
        for custom in self.custom_validators:
            context = CustomTokenRequestValidationContext(result)
            await custom.validate(context)
            result = context.result
            if result.is_rejected:
                return error(
                    result.error or TokenErrors.INVALID_REQUEST,
                    result.error_description,
                    custom_response=result.custom_response,
                    dpop_nonce=result.validated_request.dpop_nonce,
                )
        return result
