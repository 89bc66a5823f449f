"""The device authorization request (RFC 8628 §3.1; Duende ``DeviceAuthorizationRequestValidator``): a client
allowed the device grant, and its scopes (default: every scope the client is allowed, with ``offline_access``
when it may have refresh tokens)."""

from __future__ import annotations

from dataclasses import dataclass, field

from identityserver.constants import GrantType, StandardScopes, TokenErrors
from identityserver.http.parameters import Parameters
from identityserver.models.client import Client
from identityserver.models.resources import ResourceValidationResult
from identityserver.options import InputLengthRestrictions
from identityserver.validation.resources import DefaultResourceValidator, ResourceValidationError
from identityserver.validation.token_request.common import parse_requested_scopes


@dataclass(slots=True)
class ValidatedDeviceAuthorizationRequest:
    raw: Parameters
    client: Client
    requested_scopes: list[str] = field(default_factory=list)
    validated_resources: ResourceValidationResult = field(default_factory=ResourceValidationResult)
    is_open_id: bool = False


@dataclass(slots=True)
class DeviceAuthorizationValidationError:
    """An RFC 8628 §3.2 / RFC 6749 §5.2 error response."""

    error: str
    error_description: str | None = None


class DeviceAuthorizationRequestValidator:
    """Validates device authorization requests of authenticated clients; override ``validate`` to add a check."""

    def __init__(self, resources: DefaultResourceValidator, limits: InputLengthRestrictions) -> None:
        self.resources = resources
        self.limits = limits

    async def validate(
        self, parameters: Parameters, client: Client
    ) -> ValidatedDeviceAuthorizationRequest | DeviceAuthorizationValidationError:
        """The validated device authorization request (RFC 8628 §3.1: the grant allowed, the scopes), or the error."""
        if GrantType.DEVICE_CODE not in client.allowed_grant_types:
            return DeviceAuthorizationValidationError(
                TokenErrors.UNAUTHORIZED_CLIENT, "the client is not allowed to use the device flow"
            )
        if parameters.get_all("resource"):
            return DeviceAuthorizationValidationError(
                TokenErrors.INVALID_TARGET, "resource indicators are not supported with the device flow"
            )
        parsed = parse_requested_scopes(parameters.get("scope"), self.limits.scope, self.resources.scope_parser)
        if parsed is not None and not isinstance(parsed, list):
            return DeviceAuthorizationValidationError(parsed.error, parsed.error_description)
        scopes = parsed or self.default_scopes(client)
        if not scopes:
            return DeviceAuthorizationValidationError(
                TokenErrors.INVALID_SCOPE, "no scope was requested and the client has no allowed scopes"
            )
        result = await self.resources.validate_requested_resources(client, scopes)
        if isinstance(result, ResourceValidationError):
            return DeviceAuthorizationValidationError(TokenErrors.INVALID_SCOPE, result.description)
        is_open_id = StandardScopes.OPENID in scopes
        if result.resources.identity_resources and not is_open_id:
            return DeviceAuthorizationValidationError(
                TokenErrors.INVALID_SCOPE, "identity scopes were requested without openid"
            )
        return ValidatedDeviceAuthorizationRequest(parameters, client, scopes, result, is_open_id)

    @staticmethod
    def default_scopes(client: Client) -> list[str]:
        """Duende's defaults: the client's allowed scopes, and ``offline_access`` when it may refresh."""
        scopes = list(client.allowed_scopes)
        if client.allow_offline_access and StandardScopes.OFFLINE_ACCESS not in scopes:
            scopes.append(StandardScopes.OFFLINE_ACCESS)
        return scopes
