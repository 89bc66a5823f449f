"""Checks shared by several grants: scope and resource-indicator validation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from identityserver.constants import TokenErrors
from identityserver.models.resources import ResourceValidationResult
from identityserver.validation.resources import (
    DefaultResourceValidator,
    ResourceValidationError,
    resource_indicator_is_valid,
)
from identityserver.validation.results import (
    TokenRequestValidationError,
    ValidatedTokenRequest,
    error,
)
from identityserver.validation.scopes import DefaultScopeParser

if TYPE_CHECKING:
    from identityserver.validation.token_request.validator import GrantValidationContext


def requested_resource_indicator(
    request: ValidatedTokenRequest, max_length: int
) -> str | TokenRequestValidationError | None:
    """The one ``resource`` of a token request (RFC 8707 §2; more than one is ``invalid_target``)."""
    values = [v for v in request.raw.get_all("resource") if v]
    if len(values) > 1:
        return error(TokenErrors.INVALID_TARGET, "only one resource indicator is allowed at the token endpoint")
    if not values:
        return None
    if not resource_indicator_is_valid(values[0], max_length):
        return error(TokenErrors.INVALID_TARGET, "resource must be an absolute URI without a fragment")
    return values[0]


def parse_requested_scopes(
    scope: str | None, max_length: int, parser: DefaultScopeParser
) -> list[str] | TokenRequestValidationError | None:
    if scope is None:
        return None
    if len(scope) > max_length:
        return error(TokenErrors.INVALID_SCOPE, "scope is too long")
    parsed = parser.parse_scope_values(scope)
    if parsed is None:
        return error(TokenErrors.INVALID_SCOPE, "scope contains invalid characters")
    return [p.raw_value for p in parsed]


def requested_scopes_and_resource(
    context: GrantValidationContext,
) -> tuple[list[str] | None, str | None] | TokenRequestValidationError:
    """The request's ``scope`` (``None`` when absent) and its one ``resource``, or the error result."""
    request = context.request
    limits = context.options.input_length_restrictions
    scopes = parse_requested_scopes(request.raw.get("scope"), limits.scope, context.scope_parser)
    if isinstance(scopes, TokenRequestValidationError):
        return scopes
    indicator = requested_resource_indicator(request, limits.resource_indicator_max_length)
    if isinstance(indicator, TokenRequestValidationError):
        return indicator
    return scopes, indicator


async def validate_resources(
    validator: DefaultResourceValidator,
    request: ValidatedTokenRequest,
    scopes: list[str],
    indicator: str | None,
) -> TokenRequestValidationError | None:
    """Validate and store the resources on the request; return an error result or ``None``."""
    result = await validator.validate_requested_resources(request.client, scopes, [indicator] if indicator else [])
    if isinstance(result, ResourceValidationError):
        return error(result.error, result.description)
    narrowed: ResourceValidationResult = result.filter_by_resource_indicator(indicator)
    request.validated_resources = narrowed
    request.requested_scopes = scopes
    request.requested_resource_indicator = indicator
    return None
