"""Default factories of pushed authorization (RFC 9126) and ``request_uri`` by reference (RFC 9101 §5.2)."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.configuration.wiring.composition import Composition, default
from identityserver.configuration.wiring.stores import PERSISTED_GRANT_PURPOSE
from identityserver.endpoints.base import EndpointHandler
from identityserver.endpoints.pushed_authorization import PushedAuthorizationEndpoint
from identityserver.services.protocols import DataProtectionKeyRing, HttpClientFactory
from identityserver.services.pushed_authorization import DefaultPushedAuthorizationService, PushedAuthorizationService
from identityserver.services.request_uri_fetch import JwtRequestUriFetcher
from identityserver.stores.protocols import HandleGenerationService, PersistedGrantStore
from identityserver.validation.authorize_request import AuthorizeRequestValidator
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator
from identityserver.validation.dpop import DefaultDPoPProofValidator
from identityserver.validation.pushed_authorization import PushedAuthorizationRequestValidator
from identityserver.validation.request_uri import RequestUriResolver


@default(PushedAuthorizationService)
def pushed_requests(c: Composition) -> PushedAuthorizationService:
    """Pushed requests as persisted grants, data-protected like the other grants."""
    protector = None
    if c.options.persisted_grants.data_protect_data:
        protector = c.get(DataProtectionKeyRing).create_protector(PERSISTED_GRANT_PURPOSE)
    return c.cls(PushedAuthorizationService, DefaultPushedAuthorizationService)(
        c.get(PersistedGrantStore), c.get(HandleGenerationService), protector, c.get(Clock)
    )


def request_uri_resolver(c: Composition) -> RequestUriResolver:
    """What the authorize request validator resolves ``request_uri`` with."""
    fetcher = c.cls(JwtRequestUriFetcher, JwtRequestUriFetcher)(
        c.optional(HttpClientFactory),
        c.options.input_length_restrictions.jwt,
        allow_private_network=c.options.endpoints.jwt_request_uri_allow_private_network,
        strict=c.options.strict_jar_validation,
    )
    return c.cls(RequestUriResolver, RequestUriResolver)(c.options, c.get(PushedAuthorizationService), fetcher)


def pushed_authorization_endpoint(c: Composition) -> EndpointHandler:
    """``/connect/par``."""
    validator = c.cls(PushedAuthorizationRequestValidator, PushedAuthorizationRequestValidator)(
        c.get(AuthorizeRequestValidator), c.get(DefaultDPoPProofValidator)
    )
    return c.cls(PushedAuthorizationEndpoint, PushedAuthorizationEndpoint)(
        c.get(ClientSecretValidator),
        validator,
        c.get(PushedAuthorizationService),
        c.options.pushed_authorization,
    )
