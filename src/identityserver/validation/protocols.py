"""Validation extension points (Duende ``ICustomAuthorizeRequestValidator``, ``ICustomTokenRequestValidator``,
``IExtensionGrantValidator``, ``IResourceOwnerPasswordValidator``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from identityserver.models.claims import Principal
from identityserver.models.client import Client

if TYPE_CHECKING:
    from identityserver.validation.authorize_results import AuthorizeRequestValidationResult
    from identityserver.validation.results import TokenRequestValidationResult, ValidatedTokenRequest


@dataclass(slots=True)
class CustomAuthorizeRequestValidationContext:
    """What a :class:`CustomAuthorizeRequestValidator` gets: the result of a request that passed every built-in
    check, with ``result.validated_request`` (its ``client`` and ``redirect_uri`` validated)."""

    result: AuthorizeRequestValidationResult


class CustomAuthorizeRequestValidator(Protocol):
    """Extra checks on authorize requests (Duende ``ICustomAuthorizeRequestValidator``).

    Runs after every built-in check succeeded, in registration order. To reject, set ``context.result.is_error =
    True`` with ``error`` and ``error_description``: the error goes back to the client's redirect URI (RFC 6749
    §4.1.2.1) and later validators do not run. Entries added to ``context.result.custom_response`` are added to the
    authorization response; they never replace its standard parameters.
    """

    async def validate(self, context: CustomAuthorizeRequestValidationContext) -> None:
        """Check the request; set ``context.result`` to an error, or add to its ``custom_response``."""


@dataclass(slots=True)
class CustomTokenRequestValidationContext:
    """What a :class:`CustomTokenRequestValidator` gets: the result of a request that passed every built-in check
    and its grant, with ``result.validated_request``."""

    result: TokenRequestValidationResult


class CustomTokenRequestValidator(Protocol):
    """Extra checks on token requests (Duende ``ICustomTokenRequestValidator``).

    Runs after the grant validated, in registration order. To reject, set ``context.result.is_error = True`` with
    ``error`` and ``error_description``: the endpoint answers 400 with that error (RFC 6749 §5.2) and later
    validators do not run. Entries added to ``context.result.custom_response`` are added to the token response
    JSON; they never replace its standard members.
    """

    async def validate(self, context: CustomTokenRequestValidationContext) -> None:
        """Check the request; set ``context.result`` to an error, or add to its ``custom_response``."""


@dataclass(slots=True)
class GrantValidationResult:
    """Outcome of an extension grant or password validation."""

    subject: Principal | None = None
    error: str | None = None
    error_description: str | None = None
    custom_response: dict[str, Any] = field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        return self.error is not None


@dataclass(slots=True)
class ExtensionGrantValidationContext:
    request: ValidatedTokenRequest
    result: GrantValidationResult = field(default_factory=GrantValidationResult)


class ExtensionGrantValidator(Protocol):
    """A grant type of your own (RFC 6749 §4.5; Duende ``IExtensionGrantValidator``): set ``context.result`` to
    the subject, or to an error."""

    grant_type: str

    async def validate(self, context: ExtensionGrantValidationContext) -> None:
        """Set ``context.result`` to the subject the token is for, or to an error (``invalid_grant``, RFC 6749 §5.2)."""


@dataclass(slots=True)
class ResourceOwnerPasswordValidationContext:
    username: str
    password: str
    request: ValidatedTokenRequest
    result: GrantValidationResult = field(default_factory=lambda: GrantValidationResult(error="invalid_grant"))


class ResourceOwnerPasswordValidator(Protocol):
    """Checks the username and password of the ``password`` grant (RFC 6749 §4.3; Duende
    ``IResourceOwnerPasswordValidator``)."""

    async def validate(self, context: ResourceOwnerPasswordValidationContext) -> None:
        """Set ``context.result`` to the user when the credentials match; it starts as ``invalid_grant``."""


class RedirectUriValidator(Protocol):
    """Decides whether a redirect URI is one the client registered (Duende ``IRedirectUriValidator``); the
    default compares exactly (RFC 9700 §4.1.3)."""

    async def is_redirect_uri_valid(self, requested_uri: str, client: Client) -> bool:
        """Whether ``requested_uri`` is one of the client's redirect URIs."""
