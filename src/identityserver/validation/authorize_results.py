"""The validated authorize request and its result (Duende ``ValidatedAuthorizeRequest``,
``AuthorizeRequestValidationResult``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from identityserver.models.claims import Principal
from identityserver.models.client import Client
from identityserver.models.resources import ResourceValidationResult


@dataclass(slots=True)
class ValidatedAuthorizeRequest:
    raw: dict[str, str]
    """The (merged) parameters of the request, as the client sent them."""
    issuer: str
    client: Client | None = None
    client_id: str | None = None
    redirect_uri: str | None = None
    response_type: str | None = None
    response_mode: str | None = None
    grant_type: str | None = None
    state: str | None = None
    nonce: str | None = None
    requested_scopes: list[str] = field(default_factory=list)
    validated_resources: ResourceValidationResult = field(default_factory=ResourceValidationResult)
    requested_resource_indicators: list[str] = field(default_factory=list)
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    prompt_modes: list[str] = field(default_factory=list)
    suppressed_prompt: list[str] = field(default_factory=list)
    max_age: int | None = None
    ui_locales: str | None = None
    display_mode: str | None = None
    login_hint: str | None = None
    acr_values: list[str] = field(default_factory=list)
    id_token_hint_claims: dict[str, Any] | None = None
    dpop_key_thumbprint: str | None = None
    subject: Principal | None = None
    session_id: str | None = None
    request_object_used: bool = False
    was_consent_shown: bool = False

    @property
    def is_openid_request(self) -> bool:
        return "openid" in self.requested_scopes

    @property
    def response_types(self) -> list[str]:
        return (self.response_type or "").split(" ")


@dataclass(slots=True)
class AuthorizeRequestValidationResult:
    validated_request: ValidatedAuthorizeRequest
    error: str | None = None
    error_description: str | None = None
    redirectable: bool = False
    """True once client_id and redirect_uri are validated: errors then go back to the client."""

    @property
    def is_error(self) -> bool:
        return self.error is not None
