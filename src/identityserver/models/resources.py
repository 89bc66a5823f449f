"""Identity resources, API scopes and API resources (Duende ``Resource``, ``IdentityResource``, ``ApiScope``,
``ApiResource``) and the result of resource validation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from identityserver.constants import StandardScopes
from identityserver.models.client import Secret


@dataclass(slots=True)
class IdentityResource:
    name: str
    user_claims: list[str] = field(default_factory=list)
    enabled: bool = True
    display_name: str | None = None
    description: str | None = None
    show_in_discovery_document: bool = True
    required: bool = False
    emphasize: bool = False
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ApiScope:
    name: str
    user_claims: list[str] = field(default_factory=list)
    enabled: bool = True
    display_name: str | None = None
    description: str | None = None
    show_in_discovery_document: bool = True
    required: bool = False
    emphasize: bool = False
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ApiResource:
    name: str
    scopes: list[str] = field(default_factory=list)
    api_secrets: list[Secret] = field(default_factory=list)
    user_claims: list[str] = field(default_factory=list)
    enabled: bool = True
    display_name: str | None = None
    description: str | None = None
    show_in_discovery_document: bool = True
    require_resource_indicator: bool = False
    allowed_access_token_signing_algorithms: list[str] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)


def standard_identity_resources() -> dict[str, IdentityResource]:
    """The identity resources of OIDC Core §5.4 (Duende ``IdentityResources.*``)."""
    return {
        "openid": IdentityResource("openid", ["sub"], display_name="Your user identifier", required=True),
        "profile": IdentityResource(
            "profile",
            [
                "name",
                "family_name",
                "given_name",
                "middle_name",
                "nickname",
                "preferred_username",
                "profile",
                "picture",
                "website",
                "gender",
                "birthdate",
                "zoneinfo",
                "locale",
                "updated_at",
            ],
            display_name="User profile",
            description="Your user profile information (first name, last name, etc.)",
            emphasize=True,
        ),
        "email": IdentityResource(
            "email", ["email", "email_verified"], display_name="Your email address", emphasize=True
        ),
        "phone": IdentityResource(
            "phone",
            ["phone_number", "phone_number_verified"],
            display_name="Your phone number",
            emphasize=True,
        ),
        "address": IdentityResource("address", ["address"], display_name="Your postal address", emphasize=True),
    }


@dataclass(slots=True)
class Resources:
    """A set of resources, as returned by the resource store."""

    identity_resources: list[IdentityResource] = field(default_factory=list)
    api_resources: list[ApiResource] = field(default_factory=list)
    api_scopes: list[ApiScope] = field(default_factory=list)
    offline_access: bool = False

    def to_scope_names(self) -> list[str]:
        names = [r.name for r in self.identity_resources] + [s.name for s in self.api_scopes]
        if self.offline_access:
            names.append(StandardScopes.OFFLINE_ACCESS)
        return names


@dataclass(slots=True, frozen=True)
class ParsedScopeValue:
    """One requested scope value (Duende ``ParsedScopeValue``)."""

    raw_value: str
    parsed_name: str
    parsed_parameter: str | None = None


@dataclass(slots=True)
class ResourceValidationResult:
    """The validated resources of a request: the scopes granted and the API resources they reach."""

    resources: Resources = field(default_factory=Resources)
    parsed_scopes: list[ParsedScopeValue] = field(default_factory=list)
    resource_indicator: str | None = None

    @property
    def raw_scope_values(self) -> list[str]:
        return [s.raw_value for s in self.parsed_scopes]

    @property
    def is_openid(self) -> bool:
        return any(r.name == StandardScopes.OPENID for r in self.resources.identity_resources)

    def filter_by_resource_indicator(self, indicator: str | None) -> ResourceValidationResult:
        """Narrow to one API resource (RFC 8707 §2): audience = that resource, scopes = its scopes."""
        if indicator is None:
            api_resources = [r for r in self.resources.api_resources if not r.require_resource_indicator]
            return ResourceValidationResult(
                Resources(
                    self.resources.identity_resources,
                    api_resources,
                    self.resources.api_scopes,
                    self.resources.offline_access,
                ),
                self.parsed_scopes,
                None,
            )
        api_resources = [r for r in self.resources.api_resources if r.name == indicator]
        scope_names = {s for r in api_resources for s in r.scopes}
        api_scopes = [s for s in self.resources.api_scopes if s.name in scope_names]
        parsed = [
            p
            for p in self.parsed_scopes
            if p.parsed_name in scope_names
            or p.parsed_name == StandardScopes.OFFLINE_ACCESS
            or any(i.name == p.parsed_name for i in self.resources.identity_resources)
        ]
        return ResourceValidationResult(
            Resources(self.resources.identity_resources, api_resources, api_scopes, self.resources.offline_access),
            parsed,
            indicator,
        )


NamedResource = TypeVar("NamedResource", IdentityResource, ApiScope, ApiResource)


def in_requested_order(items: list[NamedResource], names: Sequence[str]) -> list[NamedResource]:
    """``items`` in the order of ``names`` (each name once), as the stores answer."""
    by_name = {i.name: i for i in items}
    return [by_name[n] for n in dict.fromkeys(names) if n in by_name]
