"""Upstream identity providers (Duende ``IdentityProvider`` / ``OidcProvider``, dynamic providers) and the links
between upstream accounts and local users.

A provider is stored as IdentityServer stores it: ``Scheme``, ``DisplayName``, ``Enabled``, ``Type`` and a
``Properties`` dictionary of strings (``Authority``, ``ClientId``, ``ClientSecret``, ``ResponseType``, ``Scope``,
``GetClaimsFromUserInfoEndpoint``, ``UsePkce``), so that a 6.x database's providers work unchanged."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

OIDC = "oidc"
SUPPORTED_RESPONSE_TYPES = ("code", "id_token")
#: Scheme names become a path segment (``/federation/{scheme}/signin``) and a cookie name part.
SCHEME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


class IdentityProviderError(ValueError):
    """A provider configuration that cannot be used; the message names the field."""


@dataclass(slots=True)
class IdentityProvider:
    """A row of ``IdentityProviders`` (Duende ``IdentityProvider``); ``properties`` is its Properties JSON."""

    scheme: str
    display_name: str | None = None
    enabled: bool = True
    type: str = OIDC
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OidcProvider:
    """An ``oidc`` provider with its properties read and checked (Duende ``OidcProvider`` defaults)."""

    scheme: str
    display_name: str
    enabled: bool
    authority: str
    client_id: str
    client_secret: str | None = None
    response_type: str = "id_token"
    scope: str = "openid"
    get_claims_from_user_info_endpoint: bool = True
    use_pkce: bool = True

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()


@dataclass(slots=True)
class ExternalLogin:
    """A row of ``IdentityServerExternalLogins``: the upstream account (scheme, upstream ``sub``) of a user."""

    scheme: str
    provider_subject_id: str
    subject_id: str
    created: datetime
    display_name: str | None = None
    last_used: datetime | None = None


def _flag(properties: dict[str, str], name: str, default: bool) -> bool:
    """.NET writes booleans as ``True``/``False`` (``bool.ToString()``); read them case-insensitively."""
    value = properties.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise IdentityProviderError(f"{name}: expected true or false, got {value!r}")


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):  # RFC 6761 §6.3: always the loopback interface
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_authority(authority: str) -> None:
    """https, or http to a loopback address (development), without userinfo, query or fragment."""
    try:
        parts = urlsplit(authority)
        host = (parts.hostname or "").lower()
        _ = parts.port
    except ValueError as exc:
        raise IdentityProviderError("Authority: not a URL") from exc
    if not host or "@" in parts.netloc or parts.query or parts.fragment:
        raise IdentityProviderError("Authority: expected an absolute URL without user, query or fragment")
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
        raise IdentityProviderError("Authority: must use https (http only for a loopback address)")


def oidc_provider(provider: IdentityProvider) -> OidcProvider:
    """The provider's OpenID Connect settings, or ``IdentityProviderError`` naming what is wrong (Duende
    ``IIdentityProviderConfigurationValidator``)."""
    if not SCHEME_PATTERN.match(provider.scheme or ""):
        raise IdentityProviderError("Scheme: letters, digits, '.', '_' and '-' only (1 to 200 characters)")
    if provider.type != OIDC:
        raise IdentityProviderError(f"Type: {provider.type!r} is not supported (only {OIDC!r})")
    props = provider.properties
    authority = (props.get("Authority") or "").rstrip("/")
    if not authority:
        raise IdentityProviderError("Authority: is required")
    check_authority(authority)
    client_id = props.get("ClientId") or ""
    if not client_id:
        raise IdentityProviderError("ClientId: is required")
    response_type = props.get("ResponseType") or "id_token"
    if response_type not in SUPPORTED_RESPONSE_TYPES:
        raise IdentityProviderError(
            f"ResponseType: {response_type!r} is not one of {', '.join(SUPPORTED_RESPONSE_TYPES)}"
        )
    scope = props.get("Scope") or "openid"
    if "openid" not in scope.split():
        raise IdentityProviderError("Scope: must include openid")
    secret = props.get("ClientSecret") or None
    if response_type == "code" and secret is None and not _flag(props, "UsePkce", True):
        raise IdentityProviderError("ClientSecret: a code flow without a secret needs UsePkce")
    return OidcProvider(
        scheme=provider.scheme,
        display_name=provider.display_name or provider.scheme,
        enabled=provider.enabled,
        authority=authority,
        client_id=client_id,
        client_secret=secret,
        response_type=response_type,
        scope=scope,
        get_claims_from_user_info_endpoint=_flag(props, "GetClaimsFromUserInfoEndpoint", True),
        use_pkce=_flag(props, "UsePkce", True),
    )
