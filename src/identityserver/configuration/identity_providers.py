"""``[[identity_providers]]`` of the configuration file: upstream OpenID Connect providers, flat snake_case keys
for IdentityServer's ``OidcProvider`` properties (docs/federation.md). Each entry is checked as the server would
check it when loading it, so a mistake stops start-up with the entry and field named."""

from __future__ import annotations

from typing import Any

from identityserver.configuration.errors import ConfigError
from identityserver.models.identity_providers import (
    OIDC,
    IdentityProvider,
    IdentityProviderError,
    oidc_provider,
)

__all__ = ["IdentityProvider", "parse_identity_providers"]

#: file key -> IdentityServer's Properties name (``OidcProvider``)
PROPERTIES = {
    "authority": "Authority",
    "client_id": "ClientId",
    "client_secret": "ClientSecret",
    "response_type": "ResponseType",
    "scope": "Scope",
    "get_claims_from_user_info_endpoint": "GetClaimsFromUserInfoEndpoint",
    "use_pkce": "UsePkce",
}
_BOOLEANS = {"enabled", "get_claims_from_user_info_endpoint", "use_pkce"}
_FIELD_OF_PROPERTY = {v: k for k, v in PROPERTIES.items()} | {"Scheme": "scheme", "Type": "type"}


def _error(source: str, where: str, name: str, message: str) -> ConfigError:
    return ConfigError(f'{source}: {where}: field "{name}": {message}')


def parse_identity_providers(data: dict[str, Any], source: str) -> list[IdentityProvider]:
    """The ``identity_providers`` array of tables, checked; ``ConfigError`` names the entry and the field."""
    entries = data.get("identity_providers", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f'{source}: top level: field "identity_providers": expected an array of tables')
    providers: list[IdentityProvider] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        scheme = entry.get("scheme")
        where = f"identity_providers[{i}]" + (f' (scheme "{scheme}")' if isinstance(scheme, str) else "")
        for name, value in entry.items():
            if name not in PROPERTIES and name not in ("scheme", "display_name", "enabled", "type"):
                raise _error(source, where, name, "unknown field")
            expected = bool if name in _BOOLEANS else str
            if not isinstance(value, expected):
                raise _error(source, where, name, f"expected a {'boolean' if expected is bool else 'string'}")
        properties = {
            prop: (("True" if value else "False") if isinstance(value, bool) else value)
            for key, prop in PROPERTIES.items()
            if (value := entry.get(key)) is not None
        }
        provider = IdentityProvider(
            scheme=entry.get("scheme", ""),
            display_name=entry.get("display_name"),
            enabled=entry.get("enabled", True),
            type=entry.get("type", OIDC),
            properties=properties,
        )
        try:
            oidc_provider(provider)
        except IdentityProviderError as exc:
            prop, _, message = str(exc).partition(": ")
            raise _error(source, where, _FIELD_OF_PROPERTY.get(prop, prop), message) from exc
        if provider.scheme in seen:
            raise _error(source, where, "scheme", f"duplicate scheme {provider.scheme!r}")
        seen.add(provider.scheme)
        providers.append(provider)
    return providers
