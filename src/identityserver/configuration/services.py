"""``Services``: the frozen result of composition, one typed attribute per collaborator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from identityserver.clock import Clock
from identityserver.configuration.options import IdentityServerOptions
from identityserver.hosting.router import EndpointRouter
from identityserver.models.grants import Token
from identityserver.response_handling.discovery import DiscoveryResponseGenerator, ServerCapabilities
from identityserver.response_handling.token import TokenResponseGenerator
from identityserver.services.cors import InMemoryCorsPolicyService
from identityserver.services.data_protection import KeyRingDataProtectionProvider
from identityserver.services.events import DefaultEventService
from identityserver.services.key_management.key_manager import KeyManager
from identityserver.services.key_management.key_material import DefaultKeyMaterialService
from identityserver.services.protocols import CorsPolicyService, EventSink, ProfileService, ReplayCache
from identityserver.services.token_creation import DefaultTokenCreationService
from identityserver.services.token_service import DefaultTokenService
from identityserver.stores.grant_stores import DefaultGrantStore
from identityserver.stores.protocols import ClientStore, PersistedGrantStore, ResourceStore, SigningKeyStore
from identityserver.test_users import TestUserStore
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator
from identityserver.validation.resources import DefaultResourceValidator
from identityserver.validation.token_request.validator import TokenRequestValidator
from identityserver.validation.token_validator import TokenValidator


@dataclass(frozen=True, slots=True)
class Services:
    options: IdentityServerOptions
    clock: Clock
    clients: ClientStore
    resources: ResourceStore
    persisted_grants: PersistedGrantStore
    signing_keys: SigningKeyStore
    data_protection: KeyRingDataProtectionProvider
    replay_cache: ReplayCache
    event_sink: EventSink
    events: DefaultEventService
    profile: ProfileService
    users: TestUserStore | None
    key_manager: KeyManager
    key_material: DefaultKeyMaterialService
    token_creation: DefaultTokenCreationService
    token_service: DefaultTokenService
    reference_tokens: DefaultGrantStore[Token]
    client_secret_validator: ClientSecretValidator
    resource_validator: DefaultResourceValidator
    token_request_validator: TokenRequestValidator
    token_response_generator: TokenResponseGenerator
    token_validator: TokenValidator
    discovery: DiscoveryResponseGenerator
    capabilities: ServerCapabilities
    router: EndpointRouter
    cors: CorsPolicyService | InMemoryCorsPolicyService
    startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    background: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
