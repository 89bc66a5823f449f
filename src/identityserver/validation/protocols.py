"""Validation extension points (Duende ``ICustomTokenRequestValidator``, ``IExtensionGrantValidator``,
``IResourceOwnerPasswordValidator``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from identityserver.models.claims import Principal

if TYPE_CHECKING:
    from identityserver.validation.results import TokenRequestValidationResult, ValidatedTokenRequest


@dataclass(slots=True)
class CustomTokenRequestValidationContext:
    """Passed to custom validators after the built-in checks; set ``result.error`` to reject."""

    result: TokenRequestValidationResult


class CustomTokenRequestValidator(Protocol):
    async def validate(self, context: CustomTokenRequestValidationContext) -> None: ...


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
    grant_type: str

    async def validate(self, context: ExtensionGrantValidationContext) -> None: ...


@dataclass(slots=True)
class ResourceOwnerPasswordValidationContext:
    username: str
    password: str
    request: ValidatedTokenRequest
    result: GrantValidationResult = field(default_factory=lambda: GrantValidationResult(error="invalid_grant"))


class ResourceOwnerPasswordValidator(Protocol):
    async def validate(self, context: ResourceOwnerPasswordValidationContext) -> None: ...
