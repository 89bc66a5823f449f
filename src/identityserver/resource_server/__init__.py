"""Validation of this server's access tokens at the APIs that receive them (RFC 9068, RFC 6750, RFC 9449 §7).

``AccessTokenValidator`` checks JWT access tokens against the issuer's JWKS, reference tokens at the issuer's
introspection endpoint (RFC 7662) when given the API's secret, and DPoP-bound tokens against their proofs;
``AccessTokenMiddleware`` (pure ASGI) and ``identityserver.resource_server.starlette.RequireAccessToken`` (a
Starlette/FastAPI dependency) put it in front of an API. See docs/resource-server.md."""

from identityserver.resource_server.jwks import JwksCache
from identityserver.resource_server.middleware import AccessTokenMiddleware
from identityserver.resource_server.validator import (
    AccessTokenValidator,
    AuthenticationFailure,
    ResourceServerOptions,
    ValidatedAccessToken,
)

__all__ = [
    "AccessTokenMiddleware",
    "AccessTokenValidator",
    "AuthenticationFailure",
    "JwksCache",
    "ResourceServerOptions",
    "ValidatedAccessToken",
]
