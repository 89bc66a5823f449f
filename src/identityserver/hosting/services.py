"""``Services``: the frozen result of composition (``IdentityServerBuilder.build()``), one attribute per
collaborator the host, the UI and the command line use, each typed by its Protocol. Pipeline stages (validators,
response generators, endpoints) are reached through the router; they are not listed here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from identityserver.clock import Clock
from identityserver.hosting.health import HealthCheck
from identityserver.hosting.router import EndpointRouter
from identityserver.hosting.writers import ResultWriters
from identityserver.options import IdentityServerOptions
from identityserver.services.backchannel_authentication import BackchannelAuthenticationInteractionService
from identityserver.services.device_flow_protocols import DeviceFlowInteractionService, UserCodeThrottle
from identityserver.services.identity_providers import FederationService
from identityserver.services.protocols import (
    AuthorizationCodeService,
    BackChannelLogoutService,
    ConsentService,
    CorsPolicyService,
    DataProtectionKeyRing,
    EventService,
    IdentityServerInteractionService,
    KeyManager,
    KeyMaterialService,
    LoginThrottle,
    LogoutService,
    MessageStore,
    ProfileService,
    RefreshTokenService,
    SessionCoordinationService,
    SessionManagementService,
    TokenCreationService,
    TokenService,
    UserSessionService,
)
from identityserver.services.sign_in_protocols import PasskeyService, TotpService
from identityserver.stores.protocols import (
    ClientConfigurationStore,
    ClientStore,
    ListableClientStore,
    PersistedGrantStore,
    ReferenceTokenStore,
    ReplayCache,
    ResourceStore,
    ServerSideSessionStore,
    SigningKeyStore,
    TokenCleanupService,
    UserStore,
)


@dataclass(frozen=True, slots=True)
class Services:
    options: IdentityServerOptions
    clock: Clock
    clients: ClientStore
    client_list: ListableClientStore | None
    """Lists clients (the portal page); ``None`` when the client store cannot and none was registered."""
    client_configuration: ClientConfigurationStore | None
    resources: ResourceStore
    persisted_grants: PersistedGrantStore
    reference_tokens: ReferenceTokenStore
    signing_keys: SigningKeyStore
    server_side_sessions: ServerSideSessionStore | None
    users: UserStore | None
    replay_cache: ReplayCache
    data_protection: DataProtectionKeyRing
    events: EventService
    profile: ProfileService
    key_manager: KeyManager
    key_material: KeyMaterialService
    token_creation: TokenCreationService
    token_service: TokenService
    refresh_tokens: RefreshTokenService
    authorization_codes: AuthorizationCodeService
    consent: ConsentService
    messages: MessageStore
    user_session: UserSessionService
    interaction: IdentityServerInteractionService
    logout: LogoutService
    login_throttle: LoginThrottle
    backchannel_logout: BackChannelLogoutService
    session_coordination: SessionCoordinationService
    session_management: SessionManagementService | None
    token_cleanup: TokenCleanupService | None
    """``None`` when a custom persisted-grant store was registered without a cleanup service."""
    cors: CorsPolicyService
    router: EndpointRouter
    writers: ResultWriters
    startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    background: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    health_checks: list[HealthCheck] = field(default_factory=list)
    """What ``/health/ready`` checks (``builder.add_item(HealthCheck, ...)`` and the signing keys)."""
    device_flow: DeviceFlowInteractionService | None = None
    """What the device verification page calls into (RFC 8628 §3.3)."""
    user_code_throttle: UserCodeThrottle | None = None
    """Limits wrong user codes on the verification page (RFC 8628 §5.1)."""
    backchannel_authentication: BackchannelAuthenticationInteractionService | None = None
    """What the ``/ciba`` page calls into to list and decide CIBA requests (docs/ciba.md)."""
    passkeys: PasskeyService | None = None
    """WebAuthn registration and sign-in of the account and login pages (docs/sign-in.md)."""
    totp: TotpService | None = None
    """TOTP second factors and recovery codes (docs/sign-in.md)."""
    federation: FederationService | None = None
    """What the federation pages call into: upstream OpenID Connect providers (docs/federation.md)."""
