"""identityserver: an OpenID Connect and OAuth 2.0 server framework for Python, modelled on Duende
IdentityServer 6.3. The curated public API is listed in ``__all__``."""

from identityserver.clock import Clock, SystemClock
from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.configuration.loader import ConfigError, Configuration, load_configuration
from identityserver.configuration.options import IdentityServerOptions
from identityserver.configuration.services import Services
from identityserver.hosting.app import create_app
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
from identityserver.response_handling.token import TokenResponseGenerator
from identityserver.test_users import TestUser

__version__ = "0.1.0"

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
