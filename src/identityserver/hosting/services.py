"""``Services``: the frozen result of composition, one typed attribute per collaborator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from identityserver.clock import Clock
from identityserver.hosting.router import EndpointRouter
from identityserver.models.client import Client
from identityserver.models.grants import Token
from identityserver.options import IdentityServerOptions
from identityserver.response_handling.authorize import AuthorizeResponseGenerator
from identityserver.response_handling.authorize_interaction import AuthorizeInteractionResponseGenerator
from identityserver.response_handling.discovery import DiscoveryResponseGenerator, ServerCapabilities
from identityserver.response_handling.token import TokenResponseGenerator
from identityserver.services.authorization_codes import AuthorizationCodeService
from identityserver.services.backchannel_logout import DefaultBackChannelLogoutService
from identityserver.services.consent import DefaultConsentService
from identityserver.services.data_protection import KeyRingDataProtectionProvider
from identityserver.services.events import DefaultEventService
from identityserver.services.interaction import DefaultIdentityServerInteractionService
from identityserver.services.key_management.key_manager import KeyManager
from identityserver.services.key_management.key_material import DefaultKeyMaterialService
from identityserver.services.login_throttle import LoginThrottle
from identityserver.services.logout import DefaultLogoutService
from identityserver.services.messages import ProtectedMessageStore
from identityserver.services.protocols import CorsPolicyService, EventSink, ProfileService
from identityserver.services.refresh_tokens import DefaultRefreshTokenService
from identityserver.services.session_coordination import DefaultSessionCoordinationService
from identityserver.services.session_management import DefaultSessionManagementService
from identityserver.services.token_creation import DefaultTokenCreationService
from identityserver.services.token_service import DefaultTokenService
from identityserver.services.user_session import DefaultUserSession
from identityserver.stores.grant_stores import DefaultGrantStore
from identityserver.stores.protocols import (
    ClientStore,
    PersistedGrantStore,
    ReplayCache,
    ResourceStore,
    ServerSideSessionStore,
    SigningKeyStore,
    UserStore,
)
from identityserver.validation.authorize_request import AuthorizeRequestValidator
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator
from identityserver.validation.identity_token import IdentityTokenValidator
from identityserver.validation.resources import DefaultResourceValidator
from identityserver.validation.token_request.validator import TokenRequestValidator
from identityserver.validation.token_validator import TokenValidator


async def _no_clients() -> list[Client]:
    return []


@dataclass(frozen=True, slots=True)
class Services:
    options: IdentityServerOptions
    clock: Clock
    clients: ClientStore
    resources: ResourceStore
    persisted_grants: PersistedGrantStore
    signing_keys: SigningKeyStore
    server_side_sessions: ServerSideSessionStore | None
    data_protection: KeyRingDataProtectionProvider
    replay_cache: ReplayCache
    event_sink: EventSink
    events: DefaultEventService
    profile: ProfileService
    users: UserStore | None
    key_manager: KeyManager
    key_material: DefaultKeyMaterialService
    token_creation: DefaultTokenCreationService
    token_service: DefaultTokenService
    reference_tokens: DefaultGrantStore[Token]
    refresh_tokens: DefaultRefreshTokenService
    authorization_codes: AuthorizationCodeService
    consent: DefaultConsentService
    messages: ProtectedMessageStore
    user_session: DefaultUserSession
    interaction: DefaultIdentityServerInteractionService
    logout: DefaultLogoutService
    login_throttle: LoginThrottle
    backchannel_logout: DefaultBackChannelLogoutService
    session_coordination: DefaultSessionCoordinationService
    session_management: DefaultSessionManagementService | None
    client_secret_validator: ClientSecretValidator
    resource_validator: DefaultResourceValidator
    token_request_validator: TokenRequestValidator
    token_response_generator: TokenResponseGenerator
    token_validator: TokenValidator
    identity_token_validator: IdentityTokenValidator
    authorize_request_validator: AuthorizeRequestValidator
    authorize_interaction: AuthorizeInteractionResponseGenerator
    authorize_response_generator: AuthorizeResponseGenerator
    discovery: DiscoveryResponseGenerator
    capabilities: ServerCapabilities
    router: EndpointRouter
    cors: CorsPolicyService
    portal_clients: Callable[[], Awaitable[list[Client]]] = field(default=_no_clients)
    """The clients the portal lists (those with an ``initiate_login_uri``)."""
    startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    background: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
