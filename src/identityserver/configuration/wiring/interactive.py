"""Default interactive sign-in: the authorize pipeline, consent, the user's session and logout."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.configuration.wiring.composition import Composition, default, optional_default
from identityserver.configuration.wiring.pushed_authorization import request_uri_resolver
from identityserver.response_handling.authorize import AuthorizeResponseGenerator
from identityserver.response_handling.authorize_interaction import AuthorizeInteractionResponseGenerator
from identityserver.services.backchannel_logout import DefaultBackChannelLogoutService
from identityserver.services.consent import DefaultConsentService
from identityserver.services.ended_sessions import EndedSessions
from identityserver.services.interaction import DefaultIdentityServerInteractionService
from identityserver.services.logout import DefaultLogoutService
from identityserver.services.messages import ProtectedMessageStore
from identityserver.services.protocols import (
    AuthorizationCodeService,
    BackChannelLogoutService,
    ConsentService,
    DataProtectionKeyRing,
    EventService,
    HttpClientFactory,
    IdentityServerInteractionService,
    KeyMaterialService,
    LogoutService,
    MessageStore,
    ProfileService,
    ReturnUrlParser,
    SessionCoordinationService,
    SessionManagementService,
    TokenCreationService,
    TokenService,
    UserSessionService,
)
from identityserver.services.session_coordination import DefaultSessionCoordinationService
from identityserver.services.session_management import DefaultSessionManagementService
from identityserver.services.user_session import DefaultUserSession
from identityserver.stores.in_memory.backchannel_logout_queue import InMemoryBackChannelLogoutQueue
from identityserver.stores.protocols import (
    BackChannelLogoutQueue,
    ClientStore,
    PersistedGrantStore,
    ReplayCache,
    ServerSideSessionStore,
)
from identityserver.validation.authorize_request import AuthorizeRequestValidator
from identityserver.validation.end_session import EndSessionRequestValidator
from identityserver.validation.identity_token import IdentityTokenValidator
from identityserver.validation.jwt_request import JwtRequestValidator
from identityserver.validation.protocols import CustomAuthorizeRequestValidator, RedirectUriValidator
from identityserver.validation.redirect_uri import StrictRedirectUriValidator
from identityserver.validation.resources import DefaultResourceValidator
from identityserver.validation.return_url_parser import OidcReturnUrlParser

SESSION_PURPOSE = "identityserver.session"
MESSAGE_PURPOSE = "identityserver.messages"


@default(RedirectUriValidator)
def redirect_uris(c: Composition) -> RedirectUriValidator:
    return c.cls(RedirectUriValidator, StrictRedirectUriValidator)()


@default(JwtRequestValidator)
def request_objects(c: Composition) -> JwtRequestValidator:
    return c.cls(JwtRequestValidator, JwtRequestValidator)(
        c.get(Clock),
        c.options.strict_jar_validation,
        c.options.input_length_restrictions.jwt,
        replay_cache=c.get(ReplayCache),
    )


@default(IdentityTokenValidator)
def id_token_hints(c: Composition) -> IdentityTokenValidator:
    return c.cls(IdentityTokenValidator, IdentityTokenValidator)(
        c.get(KeyMaterialService),
        c.options.input_length_restrictions.id_token_hint,
    )


@default(AuthorizeRequestValidator)
def authorize_request_validator(c: Composition) -> AuthorizeRequestValidator:
    return c.cls(AuthorizeRequestValidator, AuthorizeRequestValidator)(
        c.options,
        c.get(ClientStore),
        c.get(DefaultResourceValidator),
        c.get(RedirectUriValidator),
        c.get(JwtRequestValidator),
        c.get(IdentityTokenValidator),
        c.items(CustomAuthorizeRequestValidator),
        request_uris=request_uri_resolver(c),
    )


@default(ReturnUrlParser)
def return_urls(c: Composition) -> ReturnUrlParser:
    return c.cls(ReturnUrlParser, OidcReturnUrlParser)(c.get(AuthorizeRequestValidator))


@default(ConsentService)
def consent(c: Composition) -> ConsentService:
    return c.cls(ConsentService, DefaultConsentService)(c.get(PersistedGrantStore), c.get(Clock))


@default(MessageStore)
def messages(c: Composition) -> MessageStore:
    protector = c.get(DataProtectionKeyRing).create_protector(MESSAGE_PURPOSE)
    return c.cls(MessageStore, ProtectedMessageStore)(protector, c.get(Clock))


@default(UserSessionService)
def user_session(c: Composition) -> UserSessionService:
    return c.cls(UserSessionService, DefaultUserSession)(
        c.get(DataProtectionKeyRing).create_protector(SESSION_PURPOSE),
        c.options.authentication,
        c.get(Clock),
        c.optional(ServerSideSessionStore),
        c.options.server_side_sessions,
        c.get(EndedSessions),
    )


@default(EndedSessions)
def ended_sessions(c: Composition) -> EndedSessions:
    return c.cls(EndedSessions, EndedSessions)(c.get(PersistedGrantStore), c.get(Clock))


@optional_default(HttpClientFactory)
def http_clients(c: Composition) -> HttpClientFactory | None:
    """``None``: the back-channel logout service makes its own ``httpx.AsyncClient``."""
    return None


@default(BackChannelLogoutQueue)
def backchannel_logout_queue(c: Composition) -> BackChannelLogoutQueue:
    """In memory (lost with the process); ``add_sql_stores`` registers the durable SQL queue."""
    return InMemoryBackChannelLogoutQueue()


@default(BackChannelLogoutService)
def backchannel_logout(c: Composition) -> BackChannelLogoutService:
    return c.cls(BackChannelLogoutService, DefaultBackChannelLogoutService)(
        c.get(TokenCreationService),
        c.options,
        c.get(Clock),
        c.optional(HttpClientFactory),
        c.get(BackChannelLogoutQueue),
        c.get(ClientStore),
    )


@default(SessionCoordinationService)
def session_coordination(c: Composition) -> SessionCoordinationService:
    return c.cls(SessionCoordinationService, DefaultSessionCoordinationService)(
        c.options,
        c.get(PersistedGrantStore),
        c.optional(ServerSideSessionStore),
        c.get(BackChannelLogoutService),
        c.get(Clock),
    )


@default(LogoutService)
def logout(c: Composition) -> LogoutService:
    coordination = c.get(SessionCoordinationService)
    return c.cls(LogoutService, DefaultLogoutService)(c.get(ClientStore), [coordination.process_logout])


@optional_default(SessionManagementService)
def session_management(c: Composition) -> SessionManagementService | None:
    sessions = c.optional(ServerSideSessionStore)
    if sessions is None:
        return None
    return c.cls(SessionManagementService, DefaultSessionManagementService)(
        sessions,
        c.get(PersistedGrantStore),
        c.get(DataProtectionKeyRing).create_protector(SESSION_PURPOSE),
        c.get(LogoutService),
        c.get(SessionCoordinationService),
        c.get(Clock),
    )


@default(IdentityServerInteractionService)
def interaction(c: Composition) -> IdentityServerInteractionService:
    return c.cls(IdentityServerInteractionService, DefaultIdentityServerInteractionService)(
        c.get(ReturnUrlParser),
        c.get(MessageStore),
        c.get(ConsentService),
        c.get(ClientStore),
        c.get(EventService),
        c.get(ReplayCache),
    )


@default(AuthorizeInteractionResponseGenerator)
def authorize_interaction(c: Composition) -> AuthorizeInteractionResponseGenerator:
    return c.cls(AuthorizeInteractionResponseGenerator, AuthorizeInteractionResponseGenerator)(
        c.get(ConsentService),
        c.get(ProfileService),
        c.get(Clock),
        c.options.authentication.mfa_acr_value,
    )


@default(AuthorizeResponseGenerator)
def authorize_response_generator(c: Composition) -> AuthorizeResponseGenerator:
    return c.cls(AuthorizeResponseGenerator, AuthorizeResponseGenerator)(
        c.get(TokenService),
        c.get(AuthorizationCodeService),
        c.options,
        c.get(Clock),
    )


@default(EndSessionRequestValidator)
def end_session_validator(c: Composition) -> EndSessionRequestValidator:
    return c.cls(EndSessionRequestValidator, EndSessionRequestValidator)(
        c.get(ClientStore),
        c.get(IdentityTokenValidator),
        c.options.input_length_restrictions,
    )
