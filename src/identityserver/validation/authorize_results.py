"""The validated authorize request and its result (Duende ``ValidatedAuthorizeRequest``,
``AuthorizeRequestValidationResult``): the validator returns an :class:`AuthorizeRequestValidationResult` (a
success) or an :class:`AuthorizeRequestValidationError`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from identityserver.models.claims import Principal
from identityserver.models.claims_request import ClaimsRequest
from identityserver.models.client import Client
from identityserver.models.resources import ResourceValidationResult
from identityserver.validation.results import IncompleteRequestError


@dataclass(slots=True)
class ValidatedAuthorizeRequest:
    """Built once the client is known; the validator's steps fill in the rest."""

    raw: dict[str, str]
    """The (merged) parameters of the request, as the client sent them."""
    issuer: str
    client: Client
    redirect_uri: str | None = None
    """``None`` until ``validate_redirect_uri`` accepted it; only then may errors be redirected to the client."""
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
    requested_claims: ClaimsRequest | None = None
    """The ``claims`` parameter (OIDC Core §5.5), narrowed to what the client may receive."""
    subject: Principal | None = None
    session_id: str | None = None
    request_object_used: bool = False
    pushed_authorization: bool = False
    """True when the parameters came from a pushed authorization request (RFC 9126 §4: ``request_uri`` of PAR)."""
    pushed_request_uri: str | None = None
    """The ``urn:ietf:params:oauth:request_uri:`` reference the parameters were loaded from (taken once used)."""
    was_consent_shown: bool = False
    repeated_parameters: list[str] = field(default_factory=list)
    """Parameters sent more than once (RFC 6749 §3.1 forbids it), apart from the repeatable ``resource``."""

    @property
    def client_id(self) -> str:
        return self.client.client_id

    def authenticated_subject(self) -> Principal:
        """The signed-in user, for the stages after the login decision (which sends anonymous users to login)."""
        if self.subject is None:
            raise IncompleteRequestError("the authorize request has no signed-in user at this stage")
        return self.subject

    def validated_redirect_uri(self) -> str:
        """The redirect URI, for the stages after a successful validation."""
        if self.redirect_uri is None:
            raise IncompleteRequestError("the authorize request has no validated redirect_uri at this stage")
        return self.redirect_uri

    @property
    def is_openid_request(self) -> bool:
        return "openid" in self.requested_scopes

    @property
    def response_types(self) -> list[str]:
        return (self.response_type or "").split(" ")


@dataclass(slots=True)
class AuthorizeRequestValidationResult:
    """An authorize request that passed validation (Duende ``AuthorizeRequestValidationResult``).

    ``is_error``, ``error`` and ``error_description`` are only for a ``CustomAuthorizeRequestValidator``, which
    rejects the request by setting them; the validator then returns an :class:`AuthorizeRequestValidationError`
    instead, so a result it returns is always a success. ``custom_response`` entries are added to the authorization
    response without replacing its standard parameters.
    """

    validated_request: ValidatedAuthorizeRequest
    custom_response: dict[str, str] = field(default_factory=dict)
    is_error: bool = False
    error: str | None = None
    error_description: str | None = None

    @property
    def is_rejected(self) -> bool:
        """Whether a custom validator rejected the request (setting only ``error`` counts too)."""
        return self.is_error or self.error is not None


@dataclass(slots=True)
class AuthorizeRequestValidationError:
    """A rejected authorize request (RFC 6749 §4.1.2.1; OIDC Core §3.1.2.6)."""

    error: str
    error_description: str | None
    raw: dict[str, str]
    """The parameters as received (the error page reads ``ui_locales``)."""
    validated_request: ValidatedAuthorizeRequest | None = None
    """``None`` when the client is unknown."""
    redirectable: bool = False
    """True once the client and redirect URI are validated: the error then goes back to the client; before, it
    is shown on the error page, never sent to an unverified URI."""
