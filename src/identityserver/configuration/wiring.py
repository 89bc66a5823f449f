"""Builds ``Services`` from an ``IdentityServerBuilder``: defaults fill the slots left empty, overrides and
decorators apply, and every endpoint gets its collaborators. Kept apart from the builder's registration API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from identityserver.configuration.builder import IdentityServerBuilder
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
from identityserver.hosting.services import Services
from identityserver.models.client import Client
from identityserver.options import IdentityServerOptions
from identityserver.registration.endpoint import DynamicClientRegistrationEndpoint
from identityserver.registration.validator import DynamicClientRegistrationValidator
from identityserver.response_handling.authorize import AuthorizeResponseGenerator
from identityserver.response_handling.authorize_interaction import AuthorizeInteractionResponseGenerator
from identityserver.response_handling.discovery import DiscoveryResponseGenerator, ServerCapabilities
from identityserver.response_handling.introspection import IntrospectionResponseGenerator
from identityserver.response_handling.revocation import TokenRevocationResponseGenerator
from identityserver.response_handling.token import TokenResponseGenerator
from identityserver.response_handling.userinfo import UserInfoResponseGenerator
from identityserver.services.authorization_codes import AuthorizationCodeService
from identityserver.services.backchannel_logout import DefaultBackChannelLogoutService
from identityserver.services.claims import DefaultClaimsService
from identityserver.services.consent import DefaultConsentService
from identityserver.services.cors import InMemoryCorsPolicyService
from identityserver.services.data_protection import KeyRingDataProtectionProvider
from identityserver.services.events import DefaultEventService, LoggingEventSink
from identityserver.services.handles import DefaultHandleGenerationService
from identityserver.services.interaction import DefaultIdentityServerInteractionService
from identityserver.services.key_management.key_manager import KeyManager
from identityserver.services.key_management.key_material import DefaultKeyMaterialService
from identityserver.services.login_throttle import LoginThrottle
from identityserver.services.logout import DefaultLogoutService
from identityserver.services.messages import ProtectedMessageStore
from identityserver.services.profile import DefaultProfileService, TestUserProfileService
from identityserver.services.protocols import ProfileService
from identityserver.services.refresh_tokens import DefaultRefreshTokenService
from identityserver.services.session_coordination import DefaultSessionCoordinationService
from identityserver.services.session_management import DefaultSessionManagementService
from identityserver.services.token_creation import DefaultTokenCreationService
from identityserver.services.token_service import DefaultTokenService
from identityserver.services.user_session import DefaultUserSession
from identityserver.stores.caching import CachingResourceStore
from identityserver.stores.file_system import FileSystemDataProtectionKeyStore, FileSystemSigningKeyStore
from identityserver.stores.grant_stores import authorization_code_store, reference_token_store, refresh_token_store
from identityserver.stores.in_memory import (
    InMemoryClientStore,
    InMemoryDataProtectionKeyStore,
    InMemoryPersistedGrantStore,
    InMemoryResourceStore,
    InMemoryServerSideSessionStore,
    InMemorySigningKeyStore,
)
from identityserver.stores.in_memory.replay_cache import InMemoryReplayCache
from identityserver.stores.in_memory.users import TestUserStore
from identityserver.stores.protocols import ClientStore, ResourceStore, UserStore
from identityserver.validation.api_secret_validator import ApiSecretValidator
from identityserver.validation.authorize_request import AuthorizeRequestValidator
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator
from identityserver.validation.client_secrets.validators import (
    HashedSharedSecretValidator,
    PrivateKeyJwtSecretValidator,
)
from identityserver.validation.dpop import DPOP_SIGNING_ALGORITHMS, DefaultDPoPProofValidator
from identityserver.validation.end_session import EndSessionRequestValidator
from identityserver.validation.identity_token import IdentityTokenValidator
from identityserver.validation.jwt_request import JwtRequestValidator
from identityserver.validation.redirect_uri import StrictRedirectUriValidator
from identityserver.validation.resource_owner_password import TestUserResourceOwnerPasswordValidator
from identityserver.validation.resources import DefaultResourceValidator
from identityserver.validation.return_url_parser import OidcReturnUrlParser
from identityserver.validation.token_request.authorization_code import AuthorizationCodeGrantValidator
from identityserver.validation.token_request.client_credentials import ClientCredentialsGrantValidator
from identityserver.validation.token_request.dpop_proof import TokenRequestProofValidator
from identityserver.validation.token_request.extension_grant import ExtensionGrantRequestValidator
from identityserver.validation.token_request.password import PasswordGrantValidator
from identityserver.validation.token_request.refresh_token import RefreshTokenGrantValidator
from identityserver.validation.token_request.validator import GrantValidator, TokenRequestValidator
from identityserver.validation.token_validator import TokenValidator

logger = logging.getLogger("identityserver")
DATA_PROTECTION_KEY_PURPOSE = "DataProtectionKeyProtector"
PERSISTED_GRANT_PURPOSE = "PersistentGrantSerializer"
DPOP_NONCE_PURPOSE = "DPoPProofValidation-nonce"
SESSION_PURPOSE = "identityserver.session"
MESSAGE_PURPOSE = "identityserver.messages"
RESPONSE_TYPES = ["code", "id_token", "id_token token", "code id_token", "code token", "code id_token token"]


@dataclass(slots=True)
class _Endpoints:
    """The collaborators the endpoint table needs (kept together to keep signatures short)."""

    token: TokenEndpoint
    authorize: AuthorizeEndpoint
    authorize_callback: AuthorizeCallbackEndpoint
    userinfo: UserInfoEndpoint
    introspection: IntrospectionEndpoint
    revocation: TokenRevocationEndpoint
    discovery: DiscoveryEndpoint
    jwks: DiscoveryKeyEndpoint
    end_session: EndSessionEndpoint
    check_session: CheckSessionEndpoint
    registration: DynamicClientRegistrationEndpoint | None


def build_services(b: IdentityServerBuilder) -> Services:
    options, clock = b.options, b.clock
    limits = options.input_length_restrictions
    clients = b.decorated("clients", b.client_store or InMemoryClientStore(b.clients))
    resources = b.decorated(
        "resources", b.resource_store or InMemoryResourceStore(b.identity_resources, b.api_scopes, b.api_resources)
    )
    grants = b.decorated("persisted_grants", b.persisted_grant_store or InMemoryPersistedGrantStore())
    user_list = b.users
    users: UserStore | None = b.user_store or (TestUserStore(user_list) if user_list is not None else None)
    profile: ProfileService = b.profile_service or (TestUserProfileService(users) if users else DefaultProfileService())

    dp_dir = b.state_dir(options.data_protection.key_ring_path, "data-protection")
    dp_store = b.data_protection_key_store or (
        FileSystemDataProtectionKeyStore(dp_dir) if dp_dir else InMemoryDataProtectionKeyStore()
    )
    data_protection = KeyRingDataProtectionProvider(
        dp_store, clock, options.data_protection.application_name, options.data_protection.key_lifetime
    )
    key_dir = b.state_dir(options.key_management.key_path, "keys")
    key_store = b.signing_key_store or (FileSystemSigningKeyStore(key_dir) if key_dir else InMemorySigningKeyStore())
    key_manager = KeyManager(
        options.key_management,
        key_store,
        data_protection.create_protector(DATA_PROTECTION_KEY_PURPOSE),
        clock,
        getattr(key_store, "lock", None),
    )
    key_material = DefaultKeyMaterialService(key_manager)
    replay = b.replay_cache or InMemoryReplayCache()
    sink = b.event_sink or LoggingEventSink()
    events = DefaultEventService(options.events, sink, clock)
    handles = DefaultHandleGenerationService()
    grant_protector = (
        data_protection.create_protector(PERSISTED_GRANT_PURPOSE)
        if options.persisted_grants.data_protect_data
        else None
    )
    reference_tokens = reference_token_store(grants, handles, grant_protector, clock)
    codes = AuthorizationCodeService(authorization_code_store(grants, handles, grant_protector, clock), grants, clock)
    refresh_tokens = b.cls(DefaultRefreshTokenService)(
        refresh_token_store(grants, handles, grant_protector, clock), grants, profile, options.persisted_grants, clock
    )
    codes.family_revoker = refresh_tokens.revoke_family_by_id
    refresh_tokens.jti_revoker = codes.revoke_jti
    token_creation = b.cls(DefaultTokenCreationService)(key_material, options)
    token_service = b.cls(DefaultTokenService)(
        b.cls(DefaultClaimsService)(profile), token_creation, reference_tokens, options, clock
    )
    shared = HashedSharedSecretValidator()
    client_validator = b.cls(ClientSecretValidator)(
        clients, shared, PrivateKeyJwtSecretValidator(replay, clock), events, limits, clock
    )
    static_or_cached = isinstance(resources, InMemoryResourceStore | CachingResourceStore)
    resource_validator = b.cls(DefaultResourceValidator)(resources, None, clock, static_or_cached)

    throttle = LoginThrottle(grants, clock)
    password_validator = b.resource_owner_validator or (
        TestUserResourceOwnerPasswordValidator(users, clock) if users else None
    )
    grant_validators: dict[str, GrantValidator] = {
        GrantType.AUTHORIZATION_CODE: AuthorizationCodeGrantValidator(codes, profile),
        GrantType.CLIENT_CREDENTIALS: ClientCredentialsGrantValidator(),
        GrantType.REFRESH_TOKEN: RefreshTokenGrantValidator(refresh_tokens),
    }
    if password_validator is not None:
        grant_validators[GrantType.PASSWORD] = PasswordGrantValidator(password_validator, throttle)
    for grant_type, extension in b.extension_grant_validators.items():
        if grant_type in grant_validators:
            raise ValueError(f"extension grant {grant_type!r} collides with a built-in grant")
        grant_validators[grant_type] = ExtensionGrantRequestValidator(extension)
    dpop = b.cls(DefaultDPoPProofValidator)(
        options.dpop, data_protection.create_protector(DPOP_NONCE_PURPOSE), replay, clock, limits.dpop_proof_token
    )
    token_request_validator = b.cls(TokenRequestValidator)(
        grant_validators,
        options,
        resource_validator,
        clock,
        b.custom_token_request_validators,
        TokenRequestProofValidator(dpop),
    )
    token_response_generator = b.cls(TokenResponseGenerator)(token_service, refresh_tokens, codes, options, clock)
    token_validator = b.cls(TokenValidator)(
        options, key_material, clients, reference_tokens, clock, codes.is_jti_revoked
    )

    identity_tokens = IdentityTokenValidator(key_material, limits.id_token_hint)
    authorize_validator = b.cls(AuthorizeRequestValidator)(
        options,
        clients,
        resource_validator,
        StrictRedirectUriValidator(),
        JwtRequestValidator(clock, options.strict_jar_validation, limits.jwt),
        identity_tokens,
    )
    consent = DefaultConsentService(grants, clock)
    messages = ProtectedMessageStore(data_protection.create_protector(MESSAGE_PURPOSE), clock)
    sessions = b.server_side_session_store or (
        InMemoryServerSideSessionStore() if options.server_side_sessions.enabled else None
    )
    session_protector = data_protection.create_protector(SESSION_PURPOSE)
    user_session = DefaultUserSession(
        session_protector, options.authentication, clock, sessions, options.server_side_sessions
    )
    backchannel = DefaultBackChannelLogoutService(token_creation, options, clock, b.http_client_factory)
    coordination = DefaultSessionCoordinationService(options, grants, sessions, backchannel, clock)
    logout = DefaultLogoutService(clients)
    logout.on_session_ended.append(coordination.process_logout)
    if sessions is not None:
        refresh_tokens.session_validator = coordination.validate_session
        token_validator.session_validator = coordination.validate_session
    session_management = (
        DefaultSessionManagementService(sessions, grants, session_protector, logout, coordination, clock)
        if sessions is not None
        else None
    )
    interaction = DefaultIdentityServerInteractionService(
        OidcReturnUrlParser(authorize_validator), messages, consent, clients, events, replay
    )
    authorize_interaction = b.cls(AuthorizeInteractionResponseGenerator)(consent, profile, clock)
    authorize_generator = b.cls(AuthorizeResponseGenerator)(token_service, codes, options, clock)

    capabilities = ServerCapabilities(
        grant_types=[*grant_validators, GrantType.IMPLICIT],
        response_types=RESPONSE_TYPES,
        response_modes=["form_post", "query", "fragment"],
        token_endpoint_auth_methods=[
            TokenEndpointAuthMethods.CLIENT_SECRET_BASIC,
            TokenEndpointAuthMethods.CLIENT_SECRET_POST,
            TokenEndpointAuthMethods.PRIVATE_KEY_JWT,
        ],
        introspection_auth_methods=[
            TokenEndpointAuthMethods.CLIENT_SECRET_BASIC,
            TokenEndpointAuthMethods.CLIENT_SECRET_POST,
        ],
        request_object_signing_algs=list(SUPPORTED_CLIENT_ASSERTION_ALGORITHMS),
        prompt_values=list(authorize_validator.prompt_values_supported),
        code_challenge_methods=["plain", "S256"],
        frontchannel_logout=True,
        backchannel_logout=True,
        dpop_signing_algs=list(DPOP_SIGNING_ALGORITHMS),
    )
    discovery = b.cls(DiscoveryResponseGenerator)(options, resources, key_material, capabilities)
    authorize_args = (
        authorize_validator,
        authorize_interaction,
        authorize_generator,
        user_session,
        interaction,
        events,
        options,
    )
    endpoints = _Endpoints(
        token=b.cls(TokenEndpoint)(client_validator, token_request_validator, token_response_generator, events),
        authorize=b.cls(AuthorizeEndpoint)(*authorize_args),
        authorize_callback=b.cls(AuthorizeCallbackEndpoint)(*authorize_args),
        userinfo=b.cls(UserInfoEndpoint)(
            token_validator, UserInfoResponseGenerator(resources, profile), profile, list(DPOP_SIGNING_ALGORITHMS), dpop
        ),
        introspection=b.cls(IntrospectionEndpoint)(
            ApiSecretValidator(resources, shared, events, limits, clock),
            client_validator,
            resources,
            token_validator,
            refresh_tokens,
            b.cls(IntrospectionResponseGenerator)(),
            events,
        ),
        revocation=b.cls(TokenRevocationEndpoint)(
            client_validator, b.cls(TokenRevocationResponseGenerator)(reference_tokens, refresh_tokens), events
        ),
        discovery=DiscoveryEndpoint(discovery),
        jwks=DiscoveryKeyEndpoint(key_material, options.discovery.response_cache_interval),
        end_session=b.cls(EndSessionEndpoint)(
            EndSessionRequestValidator(clients, identity_tokens, limits), user_session, interaction, options
        ),
        check_session=CheckSessionEndpoint(options.authentication.check_session_cookie_name),
        registration=registration_endpoint(b, clients, resources),
    )
    router = EndpointRouter(endpoint_table(b, endpoints))
    capabilities.endpoints = router.paths

    async def warm_keys() -> None:
        await key_manager.get_all_keys()

    return Services(
        options=options,
        clock=clock,
        clients=clients,
        resources=resources,
        persisted_grants=grants,
        signing_keys=key_store,
        server_side_sessions=sessions,
        data_protection=data_protection,
        replay_cache=replay,
        event_sink=sink,
        events=events,
        profile=profile,
        users=users,
        key_manager=key_manager,
        key_material=key_material,
        token_creation=token_creation,
        token_service=token_service,
        reference_tokens=reference_tokens,
        refresh_tokens=refresh_tokens,
        authorization_codes=codes,
        consent=consent,
        messages=messages,
        user_session=user_session,
        interaction=interaction,
        logout=logout, login_throttle=throttle,
        backchannel_logout=backchannel,
        session_coordination=coordination,
        session_management=session_management,
        client_secret_validator=client_validator,
        resource_validator=resource_validator,
        token_request_validator=token_request_validator,
        token_response_generator=token_response_generator,
        token_validator=token_validator,
        identity_token_validator=identity_tokens,
        authorize_request_validator=authorize_validator,
        authorize_interaction=authorize_interaction,
        authorize_response_generator=authorize_generator,
        discovery=discovery,
        capabilities=capabilities,
        router=router,
        cors=b.cors_policy or InMemoryCorsPolicyService(b.clients),
        portal_clients=b.portal_clients or _static_portal_clients(clients),
        startup=[data_protection.initialize, warm_keys, *b.startup_steps],
        shutdown=[*b.shutdown_steps, backchannel.drain],
        background=[*b.background_jobs, *session_jobs(options, session_management)],
    )


def endpoint_table(b: IdentityServerBuilder, e: _Endpoints) -> list[Endpoint]:
    """The protocol endpoints, honouring ``options.endpoints.enable_*`` (disabled ones are not routed)."""
    flags = b.options.endpoints
    table: list[tuple[bool, str, str, EndpointHandler]] = [
        (flags.enable_discovery_endpoint, "Discovery", ProtocolRoutePaths.DISCOVERY, e.discovery),
        (flags.enable_discovery_endpoint, "DiscoveryKey", ProtocolRoutePaths.DISCOVERY_WEB_KEYS, e.jwks),
        (flags.enable_authorize_endpoint, "Authorize", ProtocolRoutePaths.AUTHORIZE, e.authorize),
        (
            flags.enable_authorize_endpoint,
            "AuthorizeCallback",
            ProtocolRoutePaths.AUTHORIZE_CALLBACK,
            e.authorize_callback,
        ),
        (flags.enable_token_endpoint, "Token", ProtocolRoutePaths.TOKEN, e.token),
        (flags.enable_userinfo_endpoint, "UserInfo", ProtocolRoutePaths.USER_INFO, e.userinfo),
        (flags.enable_introspection_endpoint, "Introspection", ProtocolRoutePaths.INTROSPECTION, e.introspection),
        (flags.enable_token_revocation_endpoint, "Revocation", ProtocolRoutePaths.REVOCATION, e.revocation),
        (flags.enable_end_session_endpoint, "EndSession", ProtocolRoutePaths.END_SESSION, e.end_session),
        (flags.enable_check_session_endpoint, "CheckSession", ProtocolRoutePaths.CHECK_SESSION, e.check_session),
    ]
    if e.registration is not None:
        table.append((True, "Registration", ProtocolRoutePaths.REGISTRATION, e.registration))
    return [Endpoint(name, path, handler) for enabled, name, path, handler in table if enabled]


def registration_endpoint(
    b: IdentityServerBuilder, clients: ClientStore, resources: ResourceStore
) -> DynamicClientRegistrationEndpoint | None:
    """``/connect/register`` when ``options.dynamic_client_registration.enabled``."""
    options = b.options.dynamic_client_registration
    if not options.enabled:
        return None
    store = b.client_configuration_store
    if store is None:
        if not isinstance(clients, InMemoryClientStore):
            raise ValueError("dynamic client registration needs a ClientConfigurationStore for this client store")
        store = clients
    return b.cls(DynamicClientRegistrationEndpoint)(
        DynamicClientRegistrationValidator(resources), store, options, b.clock
    )


def session_jobs(
    options: IdentityServerOptions, management: DefaultSessionManagementService | None
) -> list[Callable[[], Awaitable[None]]]:
    """The expired-session cleanup (Duende ``ServerSideSessionCleanupHost``) when sessions are server-side."""
    settings = options.server_side_sessions
    if management is None or not settings.remove_expired_sessions:
        return []

    async def remove_expired_sessions() -> None:
        while True:
            await asyncio.sleep(settings.remove_expired_sessions_frequency)
            try:
                await management.remove_expired_sessions(
                    settings.remove_expired_sessions_batch_size, options.issuer_uri
                )
            except Exception:
                logger.exception("removing expired sessions failed")

    return [remove_expired_sessions]


def _static_portal_clients(clients: ClientStore) -> Callable[[], Awaitable[list[Client]]]:
    async def portal_clients() -> list[Client]:
        if isinstance(clients, InMemoryClientStore):
            return [c for c in clients.all() if c.initiate_login_uri]
        return []

    return portal_clients
