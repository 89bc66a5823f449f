"""identityserver: an OpenID Connect and OAuth 2.0 server framework for Python, modelled on Duende
IdentityServer 6.3. The curated public API is listed in ``__all__``.

Names are imported on first use (PEP 562), so that ``import identityserver.resource_server`` in an API project
loads none of the server."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from identityserver.clock import Clock, SystemClock
    from identityserver.configuration.builder import IdentityServerBuilder
    from identityserver.configuration.errors import ConfigError
    from identityserver.configuration.loader import Configuration, load_configuration
    from identityserver.hosting.app import create_app
    from identityserver.hosting.services import Services
    from identityserver.models.claims import Claim, Principal
    from identityserver.models.client import (
        AccessTokenType,
        Client,
        DPoPTokenExpirationValidationMode,
        Secret,
        TokenExpiration,
        TokenUsage,
    )
    from identityserver.models.resources import ApiResource, ApiScope, IdentityResource
    from identityserver.models.users import TestUser
    from identityserver.options import IdentityServerOptions
    from identityserver.response_handling.token import TokenResponseGenerator

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "AccessTokenType": "identityserver.models.client",
    "ApiResource": "identityserver.models.resources",
    "ApiScope": "identityserver.models.resources",
    "Claim": "identityserver.models.claims",
    "Client": "identityserver.models.client",
    "Clock": "identityserver.clock",
    "ConfigError": "identityserver.configuration.errors",
    "Configuration": "identityserver.configuration.loader",
    "DPoPTokenExpirationValidationMode": "identityserver.models.client",
    "IdentityResource": "identityserver.models.resources",
    "IdentityServerBuilder": "identityserver.configuration.builder",
    "IdentityServerOptions": "identityserver.options",
    "Principal": "identityserver.models.claims",
    "Secret": "identityserver.models.client",
    "Services": "identityserver.hosting.services",
    "SystemClock": "identityserver.clock",
    "TestUser": "identityserver.models.users",
    "TokenExpiration": "identityserver.models.client",
    "TokenResponseGenerator": "identityserver.response_handling.token",
    "TokenUsage": "identityserver.models.client",
    "create_app": "identityserver.hosting.app",
    "load_configuration": "identityserver.configuration.loader",
}

__all__ = [
    "AccessTokenType",
    "ApiResource",
    "ApiScope",
    "Claim",
    "Client",
    "Clock",
    "ConfigError",
    "Configuration",
    "DPoPTokenExpirationValidationMode",
    "IdentityResource",
    "IdentityServerBuilder",
    "IdentityServerOptions",
    "Principal",
    "Secret",
    "Services",
    "SystemClock",
    "TestUser",
    "TokenExpiration",
    "TokenResponseGenerator",
    "TokenUsage",
    "create_app",
    "load_configuration",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'identityserver' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
