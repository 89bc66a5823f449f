"""Default endpoints, discovery and the router: which endpoints exist follows ``options.endpoints.enable_*``
and dynamic client registration's ``enabled``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from identityserver.clock import Clock
from identityserver.configuration.wiring.ciba import backchannel_authentication_endpoint as ciba_endpoint
from identityserver.configuration.wiring.composition import Composition, default
from identityserver.configuration.wiring.device_flow import device_authorization_endpoint
from identityserver.configuration.wiring.pushed_authorization import pushed_authorization_endpoint
from identityserver.configuration.wiring.registration import registration_endpoint
from identityserver.configuration.wiring.tokens import grant_validators
from identityserver.constants import (
    SUPPORTED_CLIENT_ASSERTION_ALGORITHMS,
    GrantType,
    ProtocolRoutePaths,
    TokenEndpointAuthMethods,
)
from identityserver.endpoints.authorize import AuthorizeCallbackEndpoint, AuthorizeEndpoint
from identityserver.endpoints.base import EndpointHandler
from identityserver.endpoints.check_session import CheckSessionEndpoint
from identityserver.endpoints.discovery import DiscoveryEndpoint, DiscoveryKeyEndpoint
from identityserver.endpoints.end_session import EndSessionEndpoint
from identityserver.endpoints.introspection import IntrospectionEndpoint
from identityserver.endpoints.revocation import TokenRevocationEndpoint
from identityserver.endpoints.token import TokenEndpoint
from identityserver.endpoints.userinfo import UserInfoEndpoint
from identityserver.hosting.router import Endpoint, EndpointRouter
from identityserver.hosting.writers import WRITERS, ResultWriters
from identityserver.response_handling.authorize import AuthorizeResponseGenerator
from identityserver.response_handling.authorize_interaction import AuthorizeInteractionResponseGenerator
from identityserver.response_handling.discovery import DiscoveryResponseGenerator, ServerCapabilities
from identityserver.response_handling.introspection import IntrospectionResponseGenerator
from identityserver.response_handling.jarm import JarmResponseGenerator
from identityserver.response_handling.revocation import TokenRevocationResponseGenerator
from identityserver.response_handling.token import TokenResponseGenerator
from identityserver.response_handling.userinfo import UserInfoResponseGenerator
from identityserver.services.protocols import (
    EventService,
    IdentityServerInteractionService,
    KeyMaterialService,
    ProfileService,
    RefreshTokenService,
    UserSessionService,
)
from identityserver.services.pushed_authorization import PushedAuthorizationService
from identityserver.stores.protocols import ReferenceTokenStore, ResourceStore
from identityserver.validation.api_secret_validator import ApiSecretValidator
from identityserver.validation.authorize_request import AuthorizeRequestValidator
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator
from identityserver.validation.client_secrets.validators import HashedSharedSecretValidator
from identityserver.validation.dpop import DPOP_SIGNING_ALGORITHMS, DefaultDPoPProofValidator
from identityserver.validation.end_session import EndSessionRequestValidator
from identityserver.validation.jarm import JARM_RESPONSE_MODES
from identityserver.validation.token_request.validator import TokenRequestValidator
from identityserver.validation.token_validator import TokenValidator

#: RFC 8705 §2 methods, advertised while ``[options.mutual_tls] enabled`` (IdentityServer's order).
MUTUAL_TLS_AUTH_METHODS = (
    TokenEndpointAuthMethods.TLS_CLIENT_AUTH,
    TokenEndpointAuthMethods.SELF_SIGNED_TLS_CLIENT_AUTH,
)

#: The two endpoints built on ``AuthorizeEndpointBase`` (one constructor).
AuthorizeKind = TypeVar("AuthorizeKind", AuthorizeEndpoint, AuthorizeCallbackEndpoint)

RESPONSE_TYPES = ["code", "id_token", "id_token token", "code id_token", "code token", "code id_token token"]


@dataclass(frozen=True, slots=True)
class EndpointRow:
    name: str
    path: str
    build: Callable[[Composition], EndpointHandler]


def endpoint_rows(c: Composition) -> list[EndpointRow]:
    """The endpoints this configuration routes (Duende's endpoint table, honouring ``enable_*``)."""
    flags = c.options.endpoints
    rows: list[tuple[bool, EndpointRow]] = [
        (flags.enable_discovery_endpoint, EndpointRow("Discovery", ProtocolRoutePaths.DISCOVERY, _discovery)),
        (flags.enable_discovery_endpoint, EndpointRow("DiscoveryKey", ProtocolRoutePaths.DISCOVERY_WEB_KEYS, _jwks)),
        (flags.enable_authorize_endpoint, EndpointRow("Authorize", ProtocolRoutePaths.AUTHORIZE, _authorize)),
        (
            flags.enable_authorize_endpoint,
            EndpointRow("AuthorizeCallback", ProtocolRoutePaths.AUTHORIZE_CALLBACK, _authorize_callback),
        ),
        (flags.enable_token_endpoint, EndpointRow("Token", ProtocolRoutePaths.TOKEN, _token)),
        (
            flags.enable_pushed_authorization_endpoint and flags.enable_authorize_endpoint,
            EndpointRow("PushedAuthorization", ProtocolRoutePaths.PUSHED_AUTHORIZATION, pushed_authorization_endpoint),
        ),
        (flags.enable_userinfo_endpoint, EndpointRow("UserInfo", ProtocolRoutePaths.USER_INFO, _userinfo)),
        (
            flags.enable_introspection_endpoint,
            EndpointRow("Introspection", ProtocolRoutePaths.INTROSPECTION, _introspection),
        ),
        (flags.enable_token_revocation_endpoint, EndpointRow("Revocation", ProtocolRoutePaths.REVOCATION, _revocation)),
        (flags.enable_end_session_endpoint, EndpointRow("EndSession", ProtocolRoutePaths.END_SESSION, _end_session)),
        (
            flags.enable_check_session_endpoint,
            EndpointRow("CheckSession", ProtocolRoutePaths.CHECK_SESSION, _check_session),
        ),
        (
            c.options.dynamic_client_registration.enabled,
            EndpointRow("Registration", ProtocolRoutePaths.REGISTRATION, _registration),
        ),
        (
            flags.enable_device_authorization_endpoint,
            EndpointRow("DeviceAuthorization", ProtocolRoutePaths.DEVICE_AUTHORIZATION, device_authorization_endpoint),
        ),
        (
            flags.enable_backchannel_authentication_endpoint,
            EndpointRow("BackchannelAuthentication", ProtocolRoutePaths.BACKCHANNEL_AUTHENTICATION, ciba_endpoint),
        ),
    ]
    return [row for enabled, row in rows if enabled]


@default(EndpointRouter)
def router(c: Composition) -> EndpointRouter:
    return EndpointRouter([Endpoint(row.name, row.path, row.build(c)) for row in endpoint_rows(c)])


@default(ResultWriters)
def writers(c: Composition) -> ResultWriters:
    """How each result type becomes an HTTP response."""
    return ResultWriters(WRITERS)


@default(ServerCapabilities)
def capabilities(c: Composition) -> ServerCapabilities:
    return ServerCapabilities(
        grant_types=[*grant_validators(c), GrantType.IMPLICIT],
        response_types=RESPONSE_TYPES,
        response_modes=["form_post", "query", "fragment", *JARM_RESPONSE_MODES],
        token_endpoint_auth_methods=[
            TokenEndpointAuthMethods.CLIENT_SECRET_BASIC,
            TokenEndpointAuthMethods.CLIENT_SECRET_POST,
            TokenEndpointAuthMethods.PRIVATE_KEY_JWT,
            *(MUTUAL_TLS_AUTH_METHODS if c.options.mutual_tls.enabled else ()),
        ],
        introspection_auth_methods=[
            TokenEndpointAuthMethods.CLIENT_SECRET_BASIC,
            TokenEndpointAuthMethods.CLIENT_SECRET_POST,
        ],
        request_object_signing_algs=list(SUPPORTED_CLIENT_ASSERTION_ALGORITHMS),
        prompt_values=list(c.get(AuthorizeRequestValidator).prompt_values_supported),
        code_challenge_methods=["plain", "S256"],
        frontchannel_logout=True,
        backchannel_logout=True,
        dpop_signing_algs=list(DPOP_SIGNING_ALGORITHMS),
        endpoints={row.path for row in endpoint_rows(c)},
    )


@default(JarmResponseGenerator)
def jarm_generator(c: Composition) -> JarmResponseGenerator:
    """Signs authorization responses in the JARM response modes (docs/fapi.md)."""
    return c.cls(JarmResponseGenerator, JarmResponseGenerator)(c.get(KeyMaterialService), c.get(Clock))


@default(DiscoveryResponseGenerator)
def discovery_generator(c: Composition) -> DiscoveryResponseGenerator:
    return c.cls(DiscoveryResponseGenerator, DiscoveryResponseGenerator)(
        c.options,
        c.get(ResourceStore),
        c.get(KeyMaterialService),
        c.get(ServerCapabilities),
    )


def _discovery(c: Composition) -> EndpointHandler:
    return c.cls(DiscoveryEndpoint, DiscoveryEndpoint)(c.get(DiscoveryResponseGenerator))


def _jwks(c: Composition) -> EndpointHandler:
    return c.cls(DiscoveryKeyEndpoint, DiscoveryKeyEndpoint)(
        c.get(KeyMaterialService),
        c.options.discovery.response_cache_interval,
    )


def _authorize(c: Composition) -> EndpointHandler:
    return _authorize_pipeline(c, c.cls(AuthorizeEndpoint, AuthorizeEndpoint))


def _authorize_callback(c: Composition) -> EndpointHandler:
    return _authorize_pipeline(c, c.cls(AuthorizeCallbackEndpoint, AuthorizeCallbackEndpoint))


def _authorize_pipeline(c: Composition, endpoint: type[AuthorizeKind]) -> AuthorizeKind:
    """``/connect/authorize`` and its callback share one constructor (``AuthorizeEndpointBase``)."""
    return endpoint(
        c.get(AuthorizeRequestValidator),
        c.get(AuthorizeInteractionResponseGenerator),
        c.get(AuthorizeResponseGenerator),
        c.get(UserSessionService),
        c.get(IdentityServerInteractionService),
        c.get(EventService),
        c.options,
        pushed_requests=c.get(PushedAuthorizationService),
        jarm=c.get(JarmResponseGenerator),
        keys=c.get(KeyMaterialService),
    )


def _token(c: Composition) -> EndpointHandler:
    return c.cls(TokenEndpoint, TokenEndpoint)(
        c.get(ClientSecretValidator),
        c.get(TokenRequestValidator),
        c.get(TokenResponseGenerator),
        c.get(EventService),
        telemetry=c.options.telemetry.enabled,
    )


@default(UserInfoResponseGenerator)
def userinfo_generator(c: Composition) -> UserInfoResponseGenerator:
    return c.cls(UserInfoResponseGenerator, UserInfoResponseGenerator)(c.get(ResourceStore), c.get(ProfileService))


def _userinfo(c: Composition) -> EndpointHandler:
    return c.cls(UserInfoEndpoint, UserInfoEndpoint)(
        c.get(TokenValidator),
        c.get(UserInfoResponseGenerator),
        c.get(ProfileService),
        list(DPOP_SIGNING_ALGORITHMS),
        c.get(DefaultDPoPProofValidator),
    )


@default(ApiSecretValidator)
def api_secret_validator(c: Composition) -> ApiSecretValidator:
    return c.cls(ApiSecretValidator, ApiSecretValidator)(
        c.get(ResourceStore),
        c.get(HashedSharedSecretValidator),
        c.get(EventService),
        c.options.input_length_restrictions,
        c.get(Clock),
    )


@default(IntrospectionResponseGenerator)
def introspection_generator(c: Composition) -> IntrospectionResponseGenerator:
    return c.cls(IntrospectionResponseGenerator, IntrospectionResponseGenerator)()


def _introspection(c: Composition) -> EndpointHandler:
    return c.cls(IntrospectionEndpoint, IntrospectionEndpoint)(
        c.get(ApiSecretValidator),
        c.get(ClientSecretValidator),
        c.get(ResourceStore),
        c.get(TokenValidator),
        c.get(RefreshTokenService),
        c.get(IntrospectionResponseGenerator),
        c.get(EventService),
    )


@default(TokenRevocationResponseGenerator)
def revocation_generator(c: Composition) -> TokenRevocationResponseGenerator:
    return c.cls(TokenRevocationResponseGenerator, TokenRevocationResponseGenerator)(
        c.get(ReferenceTokenStore),
        c.get(RefreshTokenService),
    )


def _revocation(c: Composition) -> EndpointHandler:
    return c.cls(TokenRevocationEndpoint, TokenRevocationEndpoint)(
        c.get(ClientSecretValidator), c.get(TokenRevocationResponseGenerator), c.get(EventService)
    )


def _end_session(c: Composition) -> EndpointHandler:
    return c.cls(EndSessionEndpoint, EndSessionEndpoint)(
        c.get(EndSessionRequestValidator),
        c.get(UserSessionService),
        c.get(IdentityServerInteractionService),
        c.options,
    )


def _check_session(c: Composition) -> EndpointHandler:
    return c.cls(CheckSessionEndpoint, CheckSessionEndpoint)(c.options.authentication.check_session_cookie_name)


def _registration(c: Composition) -> EndpointHandler:
    """``/connect/register`` (RFC 7591, RFC 7592): built in wiring/registration.py."""
    return registration_endpoint(c)
