"""Builds ``Services`` from an ``IdentityServerBuilder``. Each area module declares the default factory of its
slots (``stores``, ``keys``, ``tokens``, ``interactive``, ``endpoints``); ``build_services`` resolves what the host
needs through one ``Composition`` and refuses registrations that nothing used."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from identityserver.clock import Clock, SynchronizedClock
from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.configuration.registry import UnusedRegistrationError
from identityserver.configuration.wiring import (
    ciba,
    device_flow,
    endpoints,
    federation,
    interactive,
    keys,
    pushed_authorization,
    registration,
    sign_in,
    stores,
    token_exchange,
    tokens,
)
from identityserver.configuration.wiring.composition import Composition
from identityserver.hosting.background import DeploymentLease, periodic_job, token_cleanup_job
from identityserver.hosting.health import HealthCheck, SigningKeyHealthCheck
from identityserver.hosting.router import EndpointRouter
from identityserver.hosting.services import Services
from identityserver.hosting.writers import ResultWriters
from identityserver.models.client import Client
from identityserver.models.resources import ApiResource
from identityserver.models.security_profile import apply_security_profile
from identityserver.options import IdentityServerOptions
from identityserver.services.backchannel_authentication import (
    BackchannelAuthenticationInteractionService,
    BackchannelClientNotificationService,
)
from identityserver.services.device_flow_protocols import DeviceFlowInteractionService, UserCodeThrottle
from identityserver.services.ended_sessions import EndedSessions
from identityserver.services.identity_providers import FederationService
from identityserver.services.protocols import (
    AuthorizationCodeService,
    BackChannelLogoutService,
    ConsentService,
    CorsPolicyService,
    DataProtectionKeyRing,
    EventService,
    ExpiringRows,
    IdentityServerInteractionService,
    KeyManager,
    KeyMaterialService,
    LoginThrottle,
    LogoutService,
    MessageStore,
    ProfileService,
    QueuedBackChannelLogoutService,
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

__all__ = ["AREAS", "ConfigurationError", "build_services", "check_signing_algorithms"]

#: The modules that declare default factories (imported for that effect).
AREAS = (
    stores,
    keys,
    tokens,
    token_exchange,
    interactive,
    pushed_authorization,
    registration,
    endpoints,
    device_flow,
    ciba,
    sign_in,
    federation,
)

logger = logging.getLogger("identityserver")


class ConfigurationError(ValueError):
    """Configuration that cannot serve requests (found at start-up, so that no request gets a 500)."""


def build_services(builder: IdentityServerBuilder) -> Services:
    c = Composition(builder)
    services = _services(c)
    unused = c.registrations.unused()
    if unused:
        raise UnusedRegistrationError(
            "registrations that nothing used (a misspelt or unsupported slot, or one this configuration does "
            "not build): " + "; ".join(unused)
        )
    for warning in c.warnings:
        logger.warning("%s", warning)
    check_signing_algorithms(builder.options, builder.clients, builder.api_resources)
    return services


def _expiry_jobs(c: Composition, lease: DeploymentLease) -> list[Callable[[], Awaitable[None]]]:
    """Rows that go whether or not token cleanup is on (issue 16 items 2 and 5)."""
    throttle = c.get(LoginThrottle)
    interval = c.options.login_throttle.cleanup_interval
    jobs = []
    if isinstance(throttle, ExpiringRows):  # a replacement throttle may keep nothing to expire
        jobs.append(periodic_job("login throttle cleanup", throttle.remove_expired, interval, lease=lease))
    if c.optional(ServerSideSessionStore) is None:
        ended = c.get(EndedSessions).remove_expired
        jobs.append(periodic_job("ended session cleanup", ended, interval, lease=lease))
    return jobs


def _services(c: Composition) -> Services:
    options = c.options
    key_manager = c.get(KeyManager)
    data_protection = c.get(DataProtectionKeyRing)
    sessions = c.optional(SessionManagementService)
    cleanup = c.optional(TokenCleanupService)
    clients = c.optional(ListableClientStore)
    resources = c.get(ResourceStore)
    backchannel = c.get(BackChannelLogoutService)
    key_material = c.get(KeyMaterialService)

    async def warm_keys() -> None:
        await key_manager.get_all_keys()

    async def check_stored_configuration() -> None:
        listed = await clients.get_all_clients() if clients is not None else []
        check_signing_algorithms(options, listed, (await resources.get_all_resources()).api_resources)

    # The builder's own lists were checked in build(); registered stores are read once at start-up.
    registered = c.has_registration(ClientStore) or c.has_registration(ResourceStore)
    stored_checks = [check_stored_configuration] if registered else []
    # periodic passes run once per deployment; back-channel delivery runs everywhere (its queue claims rows)
    lease = DeploymentLease(c.get(ReplayCache), c.get(Clock))
    background = [*c.builder.background_jobs, *_session_jobs(options, sessions, lease)]
    if cleanup is not None and options.operational.enable_token_cleanup:
        background.append(token_cleanup_job(lambda: cleanup, options.operational, lease=lease))
    if isinstance(backchannel, QueuedBackChannelLogoutService):
        background.append(backchannel.run_delivery)
    background += _expiry_jobs(c, lease)
    clock = c.get(Clock)
    clock_startup: list[Callable[[], Awaitable[None]]] = []
    if isinstance(clock, SynchronizedClock):
        clock_startup.append(clock.start)
        background.append(clock.run)
    return Services(
        options=options,
        clock=clock,
        clients=c.get(ClientStore),
        client_list=clients,
        client_configuration=c.optional(ClientConfigurationStore),
        resources=resources,
        persisted_grants=c.get(PersistedGrantStore),
        reference_tokens=c.get(ReferenceTokenStore),
        signing_keys=c.get(SigningKeyStore),
        server_side_sessions=c.optional(ServerSideSessionStore),
        users=c.optional(UserStore),
        replay_cache=c.get(ReplayCache),
        data_protection=data_protection,
        events=c.get(EventService),
        profile=c.get(ProfileService),
        key_manager=key_manager,
        key_material=key_material,
        token_creation=c.get(TokenCreationService),
        token_service=c.get(TokenService),
        refresh_tokens=c.get(RefreshTokenService),
        authorization_codes=c.get(AuthorizationCodeService),
        consent=c.get(ConsentService),
        messages=c.get(MessageStore),
        user_session=c.get(UserSessionService),
        interaction=c.get(IdentityServerInteractionService),
        logout=c.get(LogoutService),
        login_throttle=c.get(LoginThrottle),
        backchannel_logout=backchannel,
        session_coordination=c.get(SessionCoordinationService),
        session_management=sessions,
        token_cleanup=cleanup,
        cors=c.get(CorsPolicyService),
        router=c.get(EndpointRouter),
        writers=c.get(ResultWriters),
        # the clock first: keys, the key ring and the configuration's timestamps are read and written by it
        startup=[*clock_startup, data_protection.initialize, warm_keys, *stored_checks, *c.builder.startup_steps],
        # deliveries in flight go out before the stores they may need are closed
        shutdown=[backchannel.drain, c.get(BackchannelClientNotificationService).drain, *c.builder.shutdown_steps],
        background=background,
        health_checks=[SigningKeyHealthCheck(key_material), *c.items(HealthCheck)],
        device_flow=c.get(DeviceFlowInteractionService),
        user_code_throttle=c.get(UserCodeThrottle),
        backchannel_authentication=c.get(BackchannelAuthenticationInteractionService),
        passkeys=c.get(PasskeyService),
        totp=c.get(TotpService),
        federation=c.get(FederationService),
    )


def check_signing_algorithms(
    options: IdentityServerOptions, clients: list[Client], api_resources: list[ApiResource]
) -> None:
    """Every algorithm list a client or API names must include one the server signs with; otherwise its
    tokens could never be issued (Duende checks the same when it signs, which would be a 500 on a request)."""
    available = set(options.key_management.signing_algorithms)
    # a client's security profile narrows its algorithms (FAPI 2.0 SP §5.4.1)
    clients = [apply_security_profile(client, options.security_profile) for client in clients]
    problems = [
        f"client {client.client_id!r}: allowed_identity_token_signing_algorithms "
        f"{client.allowed_identity_token_signing_algorithms} has none of {sorted(available)}"
        for client in clients
        if client.allowed_identity_token_signing_algorithms
        and not available.intersection(client.allowed_identity_token_signing_algorithms)
    ]
    problems.extend(
        f"client {client.client_id!r}: authorization_signed_response_alg {client.authorization_signed_response_alg}"
        for client in clients
        if client.authorization_signed_response_alg and client.authorization_signed_response_alg not in available
    )
    problems.extend(
        f"API resource {api.name!r}: allowed_access_token_signing_algorithms "
        f"{api.allowed_access_token_signing_algorithms} has none of {sorted(available)}"
        for api in api_resources
        if api.allowed_access_token_signing_algorithms
        and not available.intersection(api.allowed_access_token_signing_algorithms)
    )
    if problems:
        raise ConfigurationError("signing algorithms the server has no key for: " + "; ".join(problems))


def _session_jobs(
    options: IdentityServerOptions, management: SessionManagementService | None, lease: DeploymentLease
) -> list[Callable[[], Awaitable[None]]]:
    """The expired-session cleanup (Duende ``ServerSideSessionCleanupHost``) when sessions are server-side."""
    settings = options.server_side_sessions
    if management is None or not settings.remove_expired_sessions:
        return []

    async def remove_expired_sessions() -> None:
        await management.remove_expired_sessions(settings.remove_expired_sessions_batch_size, options.issuer_uri)

    frequency = settings.remove_expired_sessions_frequency
    return [periodic_job("expired session cleanup", remove_expired_sessions, frequency, lease=lease)]
