"""Validation results and validated requests (Duende ``ValidationResult``, ``ValidatedRequest`` & co)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from identityserver.http.parameters import Parameters
from identityserver.models.claims import Principal
from identityserver.models.client import Client, Secret
from identityserver.models.grants import AuthorizationCode, DeviceCode, RefreshToken
from identityserver.models.resources import ResourceValidationResult


@dataclass(slots=True)
class ParsedSecret:
    """Credentials found in a request (Duende ``ParsedSecret``)."""

    id: str
    type: str
    """One of the ``token_endpoint_auth_method`` values."""
    credential: str | None = None
    from_authorization_header: bool = False
    alternatives: list[tuple[str, str]] = field(default_factory=list)
    """Other (id, secret) splits of a Basic header whose unencoded id contains ':' (e.g. ``urn:api1``)."""


@dataclass(slots=True)
class SecretValidationResult:
    success: bool
    confirmation: str | None = None
    error: str | None = None
    error_description: str | None = None


@dataclass(slots=True)
class ClientSecretValidationResult:
    client: Client | None = None
    secret: ParsedSecret | None = None
    error: str | None = None
    error_description: str | None = None
    from_authorization_header: bool = False

    @property
    def is_error(self) -> bool:
        return self.error is not None


@dataclass(slots=True)
class ValidatedTokenRequest:
    """Everything the response generator needs (Duende ``ValidatedTokenRequest``)."""

    raw: Parameters
    client: Client
    grant_type: str
    issuer: str
    secret: ParsedSecret | None = None
    subject: Principal | None = None
    session_id: str | None = None
    validated_resources: ResourceValidationResult = field(default_factory=ResourceValidationResult)
    requested_scopes: list[str] = field(default_factory=list)
    requested_resource_indicator: str | None = None
    access_token_lifetime: int = 3600
    access_token_type: int = 0
    authorization_code: AuthorizationCode | None = None
    authorization_code_handle: str | None = None
    refresh_token: RefreshToken | None = None
    refresh_token_handle: str | None = None
    device_code: DeviceCode | None = None
    """The redeemed device authorization (RFC 8628 §3.4)."""
    code_verifier: str | None = None
    confirmation: str | None = None
    dpop_jkt: str | None = None
    dpop_nonce: str | None = None
    proof_type: int = 0
    custom_response: dict[str, Any] = field(default_factory=dict)


class IncompleteRequestError(RuntimeError):
    """A stage got a validated request without what an earlier stage guarantees (a subject after login, a redirect
    URI after validation, a refresh token for the ``refresh_token`` grant): a bug in the pipeline or in an
    override, never a client error."""


@dataclass(slots=True)
class TokenRequestValidationResult:
    """A token request that passed validation (Duende ``TokenRequestValidationResult``).

    ``is_error``, ``error`` and ``error_description`` are only for a :class:`CustomTokenRequestValidator`, which
    rejects the request by setting them (Duende ``context.Result.IsError``); :class:`TokenRequestValidator` then
    returns a :class:`TokenRequestValidationError` instead, so a result it returns is always a success.
    ``custom_response`` is merged into the token response without replacing its standard members.
    """

    validated_request: ValidatedTokenRequest
    custom_response: dict[str, Any] = field(default_factory=dict)
    is_error: bool = False
    error: str | None = None
    error_description: str | None = None

    @property
    def is_rejected(self) -> bool:
        """Whether a custom validator rejected the request (setting only ``error`` counts too)."""
        return self.is_error or self.error is not None


@dataclass(slots=True)
class TokenRequestValidationError:
    """A rejected token request: the RFC 6749 §5.2 error response the endpoint returns."""

    error: str
    error_description: str | None = None
    custom_response: dict[str, Any] = field(default_factory=dict)
    dpop_nonce: str | None = None
    """A fresh DPoP nonce to send with the error (RFC 9449 §8)."""


def error(
    code: str,
    description: str | None = None,
    custom_response: dict[str, Any] | None = None,
    dpop_nonce: str | None = None,
) -> TokenRequestValidationError:
    return TokenRequestValidationError(code, description, dict(custom_response or {}), dpop_nonce)


__all__ = [
    "ClientSecretValidationResult",
    "IncompleteRequestError",
    "ParsedSecret",
    "Secret",
    "SecretValidationResult",
    "TokenRequestValidationError",
    "TokenRequestValidationResult",
    "ValidatedTokenRequest",
    "error",
]
