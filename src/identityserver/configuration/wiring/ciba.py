"""Default CIBA pipeline (OpenID Connect CIBA Core 1.0; docs/ciba.md): the request store over the persisted
grants, the user validator and notification, the interaction service, the ping callback, the request validator
and response generator of ``/connect/ciba``, and the grant validator."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.configuration.wiring.composition import Composition, default
from identityserver.configuration.wiring.stores import PERSISTED_GRANT_PURPOSE
from identityserver.endpoints.backchannel_authentication import BackchannelAuthenticationEndpoint
from identityserver.endpoints.base import EndpointHandler
from identityserver.response_handling.backchannel_authentication import BackchannelAuthenticationResponseGenerator
from identityserver.services.backchannel_authentication import (
    BackchannelAuthenticationInteractionService,
    BackchannelAuthenticationUserNotificationService,
    BackchannelAuthenticationUserValidator,
    BackchannelClientNotificationService,
    DefaultBackchannelAuthenticationInteractionService,
    DefaultBackchannelAuthenticationUserValidator,
    LoggingBackchannelAuthenticationUserNotificationService,
)
from identityserver.services.backchannel_ping import DefaultBackchannelClientNotificationService
from identityserver.services.protocols import DataProtectionKeyRing, HttpClientFactory, ProfileService
from identityserver.stores.backchannel_authentication import (
    BackChannelAuthenticationRequestStore,
    DefaultBackChannelAuthenticationRequestStore,
)
from identityserver.stores.protocols import (
    ClientStore,
    HandleGenerationService,
    PersistedGrantStore,
    ReplayCache,
    UserStore,
)
from identityserver.validation.backchannel_authentication import BackchannelAuthenticationRequestValidator
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator
from identityserver.validation.identity_token import IdentityTokenValidator
from identityserver.validation.jwt_request import JwtRequestValidator
from identityserver.validation.resources import DefaultResourceValidator
from identityserver.validation.token_request.ciba import CibaGrantValidator


@default(BackChannelAuthenticationRequestStore)
def backchannel_requests(c: Composition) -> BackChannelAuthenticationRequestStore:
    protector = (
        c.get(DataProtectionKeyRing).create_protector(PERSISTED_GRANT_PURPOSE)
        if c.options.persisted_grants.data_protect_data
        else None
    )
    return DefaultBackChannelAuthenticationRequestStore(
        c.get(PersistedGrantStore), c.get(HandleGenerationService), protector, c.get(Clock)
    )


@default(BackchannelAuthenticationUserValidator)
def backchannel_user_validator(c: Composition) -> BackchannelAuthenticationUserValidator:
    return c.cls(BackchannelAuthenticationUserValidator, DefaultBackchannelAuthenticationUserValidator)(
        c.optional(UserStore)
    )


@default(BackchannelAuthenticationUserNotificationService)
def backchannel_user_notifications(c: Composition) -> BackchannelAuthenticationUserNotificationService:
    return c.cls(
        BackchannelAuthenticationUserNotificationService, LoggingBackchannelAuthenticationUserNotificationService
    )()


@default(BackchannelClientNotificationService)
def backchannel_pings(c: Composition) -> BackchannelClientNotificationService:
    return c.cls(BackchannelClientNotificationService, DefaultBackchannelClientNotificationService)(
        c.options.ciba, c.optional(HttpClientFactory)
    )


@default(BackchannelAuthenticationInteractionService)
def backchannel_interaction(c: Composition) -> BackchannelAuthenticationInteractionService:
    return c.cls(BackchannelAuthenticationInteractionService, DefaultBackchannelAuthenticationInteractionService)(
        c.get(BackChannelAuthenticationRequestStore),
        c.get(ClientStore),
        c.get(ReplayCache),
        c.get(Clock),
        c.get(BackchannelClientNotificationService),
    )


@default(BackchannelAuthenticationRequestValidator)
def backchannel_request_validator(c: Composition) -> BackchannelAuthenticationRequestValidator:
    return c.cls(BackchannelAuthenticationRequestValidator, BackchannelAuthenticationRequestValidator)(
        c.options,
        c.get(DefaultResourceValidator),
        c.get(BackchannelAuthenticationUserValidator),
        c.get(ProfileService),
        c.get(IdentityTokenValidator),
        c.get(JwtRequestValidator),
        c.get(ReplayCache),
        c.get(Clock),
    )


@default(BackchannelAuthenticationResponseGenerator)
def backchannel_response_generator(c: Composition) -> BackchannelAuthenticationResponseGenerator:
    return c.cls(BackchannelAuthenticationResponseGenerator, BackchannelAuthenticationResponseGenerator)(
        c.get(BackChannelAuthenticationRequestStore),
        c.get(BackchannelAuthenticationUserNotificationService),
        c.get(Clock),
    )


@default(CibaGrantValidator)
def ciba_grant(c: Composition) -> CibaGrantValidator:
    return c.cls(CibaGrantValidator, CibaGrantValidator)(
        c.get(BackChannelAuthenticationRequestStore),
        c.get(PersistedGrantStore),
        c.get(ProfileService),
        c.options.ciba,
    )


def backchannel_authentication_endpoint(c: Composition) -> EndpointHandler:
    """``/connect/ciba`` (CIBA Core §7)."""
    return c.cls(BackchannelAuthenticationEndpoint, BackchannelAuthenticationEndpoint)(
        c.get(ClientSecretValidator),
        c.get(BackchannelAuthenticationRequestValidator),
        c.get(BackchannelAuthenticationResponseGenerator),
    )
