"""The composition root (Duende ``IIdentityServerBuilder`` extensions, in snake_case).

Register stores and services, override pipeline stages by subclass, decorate anything, then ``build()`` a
frozen ``Services``. Defaults fill only the slots left empty."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from identityserver.clock import Clock, SystemClock
from identityserver.configuration.options import IdentityServerOptions
from identityserver.configuration.services import Services
from identityserver.constants import (
    SUPPORTED_CLIENT_ASSERTION_ALGORITHMS,
    GrantType,
    ProtocolRoutePaths,
    TokenEndpointAuthMethods,
)
from identityserver.endpoints.discovery import DiscoveryEndpoint, DiscoveryKeyEndpoint
from identityserver.endpoints.introspection import IntrospectionEndpoint
from identityserver.endpoints.revocation import TokenRevocationEndpoint
from identityserver.endpoints.token import TokenEndpoint
from identityserver.hosting.router import Endpoint, EndpointRouter
from identityserver.models.client import Client
from identityserver.models.resources import ApiResource, ApiScope, IdentityResource
from identityserver.response_handling.discovery import DiscoveryResponseGenerator, ServerCapabilities
from identityserver.response_handling.introspection import IntrospectionResponseGenerator
from identityserver.response_handling.revocation import TokenRevocationResponseGenerator
from identityserver.response_handling.token import TokenResponseGenerator
from identityserver.services.claims import DefaultClaimsService
from identityserver.services.cors import InMemoryCorsPolicyService
from identityserver.services.data_protection import KeyRingDataProtectionProvider
from identityserver.services.events import DefaultEventService, LoggingEventSink
from identityserver.services.handles import DefaultHandleGenerationService
from identityserver.services.key_management.key_manager import KeyManager
from identityserver.services.key_management.key_material import DefaultKeyMaterialService
from identityserver.services.protocols import CorsPolicyService, EventSink, ProfileService, ReplayCache
from identityserver.services.replay_cache import InMemoryReplayCache
from identityserver.services.token_creation import DefaultTokenCreationService
from identityserver.services.token_service import DefaultTokenService
from identityserver.stores.file_system import FileSystemDataProtectionKeyStore, FileSystemSigningKeyStore
from identityserver.stores.grant_stores import reference_token_store
from identityserver.stores.in_memory import (
    InMemoryClientStore,
    InMemoryDataProtectionKeyStore,
    InMemoryPersistedGrantStore,
    InMemoryResourceStore,
    InMemorySigningKeyStore,
)
from identityserver.stores.protocols import (
    ClientStore,
    DataProtectionKeyStore,
    PersistedGrantStore,
    ResourceStore,
    SigningKeyStore,
)
from identityserver.test_users import DefaultProfileService, TestUser, TestUserStore
from identityserver.validation.api_secret_validator import ApiSecretValidator
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator
from identityserver.validation.client_secrets.validators import (
    HashedSharedSecretValidator,
    PrivateKeyJwtSecretValidator,
)
from identityserver.validation.protocols import CustomTokenRequestValidator, ExtensionGrantValidator
from identityserver.validation.resources import DefaultResourceValidator
from identityserver.validation.token_request.client_credentials import ClientCredentialsGrantValidator
from identityserver.validation.token_request.validator import GrantValidator, TokenRequestValidator
from identityserver.validation.token_validator import TokenValidator

T = TypeVar("T")

DATA_PROTECTION_KEY_PURPOSE = "DataProtectionKeyProtector"
PERSISTED_GRANT_PURPOSE = "PersistentGrantSerializer"


class IdentityServerBuilder:
    """Collects registrations; ``build()`` wires the defaults around them."""

    def __init__(self, options: IdentityServerOptions | None = None, state_path: str | Path | None = None) -> None:
        self.options = options or IdentityServerOptions()
        self.state_path = Path(state_path) if state_path is not None else None
        self.clock: Clock = SystemClock()
        self._clients: list[Client] = []
        self._identity_resources: list[IdentityResource] = []
        self._api_scopes: list[ApiScope] = []
        self._api_resources: list[ApiResource] = []
        self._users: list[TestUser] | None = None
        self.client_store: ClientStore | None = None
        self.resource_store: ResourceStore | None = None
        self.persisted_grant_store: PersistedGrantStore | None = None
        self.signing_key_store: SigningKeyStore | None = None
        self.data_protection_key_store: DataProtectionKeyStore | None = None
        self.replay_cache: ReplayCache | None = None
        self.event_sink: EventSink | None = None
        self.profile_service: ProfileService | None = None
        self.cors_policy: CorsPolicyService | None = None
        self.custom_token_request_validators: list[CustomTokenRequestValidator] = []
        self.extension_grant_validators: dict[str, ExtensionGrantValidator] = {}
        self._overrides: dict[type, type] = {}
        self._startup: list[Callable[[], Awaitable[None]]] = []
        self._shutdown: list[Callable[[], Awaitable[None]]] = []
        self._background: list[Callable[[], Awaitable[None]]] = []
        self._decorators: dict[str, list[Callable[[Any], Any]]] = {}

    # -- configuration data --------------------------------------------------------------------------------

    def add_in_memory_clients(self, clients: Iterable[Client]) -> IdentityServerBuilder:
        self._clients.extend(clients)
        return self

    def add_in_memory_identity_resources(self, resources: Iterable[IdentityResource]) -> IdentityServerBuilder:
        self._identity_resources.extend(resources)
        return self

    def add_in_memory_api_scopes(self, scopes: Iterable[ApiScope]) -> IdentityServerBuilder:
        self._api_scopes.extend(scopes)
        return self

    def add_in_memory_api_resources(self, resources: Iterable[ApiResource]) -> IdentityServerBuilder:
        self._api_resources.extend(resources)
        return self

    def add_test_users(self, users: Iterable[TestUser]) -> IdentityServerBuilder:
        self._users = [*(self._users or []), *users]
        return self

    # -- stores and services ---------------------------------------------------------------------------

    def set_clock(self, clock: Clock) -> IdentityServerBuilder:
        self.clock = clock
        return self

    def add_client_store(self, store: ClientStore) -> IdentityServerBuilder:
        self.client_store = store
        return self

    def add_resource_store(self, store: ResourceStore) -> IdentityServerBuilder:
        self.resource_store = store
        return self

    def add_persisted_grant_store(self, store: PersistedGrantStore) -> IdentityServerBuilder:
        self.persisted_grant_store = store
        return self

    def add_signing_key_store(self, store: SigningKeyStore) -> IdentityServerBuilder:
        self.signing_key_store = store
        return self

    def add_data_protection_key_store(self, store: DataProtectionKeyStore) -> IdentityServerBuilder:
        self.data_protection_key_store = store
        return self

    def add_replay_cache(self, cache: ReplayCache) -> IdentityServerBuilder:
        self.replay_cache = cache
        return self

    def add_event_sink(self, sink: EventSink) -> IdentityServerBuilder:
        self.event_sink = sink
        return self

    def add_profile_service(self, service: ProfileService) -> IdentityServerBuilder:
        self.profile_service = service
        return self

    def add_cors_policy_service(self, service: CorsPolicyService) -> IdentityServerBuilder:
        self.cors_policy = service
        return self

    def add_custom_token_request_validator(self, validator: CustomTokenRequestValidator) -> IdentityServerBuilder:
        self.custom_token_request_validators.append(validator)
        return self

    def add_extension_grant_validator(self, validator: ExtensionGrantValidator) -> IdentityServerBuilder:
        if validator.grant_type in self.extension_grant_validators:
            raise ValueError(f"an extension grant validator for {validator.grant_type!r} is already registered")
        self.extension_grant_validators[validator.grant_type] = validator
        return self

    def on_startup(self, step: Callable[[], Awaitable[None]]) -> IdentityServerBuilder:
        """Run ``step`` when the application starts (after the key ring and keys are ready)."""
        self._startup.append(step)
        return self

    def on_shutdown(self, step: Callable[[], Awaitable[None]]) -> IdentityServerBuilder:
        self._shutdown.append(step)
        return self

    def add_background_job(self, job: Callable[[], Awaitable[None]]) -> IdentityServerBuilder:
        """A long-running coroutine started with the application and cancelled when it stops."""
        self._background.append(job)
        return self

    def override(self, base: type[T], subclass: type[T]) -> IdentityServerBuilder:
        """Use ``subclass`` wherever the pipeline stage ``base`` is built (same constructor arguments)."""
        if not issubclass(subclass, base):
            raise TypeError(f"{subclass.__name__} must subclass {base.__name__}")
        self._overrides[base] = subclass
        return self

    def decorate(self, slot: str, wrapper: Callable[[Any], Any]) -> IdentityServerBuilder:
        """Wrap the collaborator in ``Services.<slot>`` (e.g. ``"clients"``) with ``wrapper(inner)``."""
        self._decorators.setdefault(slot, []).append(wrapper)
        return self

    def cls(self, base: type[T]) -> type[T]:
        return self._overrides.get(base, base)

    def _decorated(self, slot: str, value: T) -> T:
        for wrapper in self._decorators.get(slot, []):
            value = wrapper(value)
        return value

    # -- build ------------------------------------------------------------------------------------------

    def build(self) -> Services:
        options, clock = self.options, self.clock
        clients = self._decorated("clients", self.client_store or InMemoryClientStore(self._clients))
        resources = self._decorated(
            "resources",
            self.resource_store
            or InMemoryResourceStore(self._identity_resources, self._api_scopes, self._api_resources),
        )
        grants = self._decorated("persisted_grants", self.persisted_grant_store or InMemoryPersistedGrantStore())
        users = TestUserStore(self._users) if self._users is not None else None
        profile = self.profile_service or (self._test_user_profile(users) if users else DefaultProfileService())
        dp_dir = self._state_dir(options.data_protection.key_ring_path, "data-protection")
        dp_store = self.data_protection_key_store or (
            FileSystemDataProtectionKeyStore(dp_dir) if dp_dir else InMemoryDataProtectionKeyStore()
        )
        data_protection = KeyRingDataProtectionProvider(
            dp_store, clock, options.data_protection.application_name, options.data_protection.key_lifetime
        )
        key_dir = self._state_dir(options.key_management.key_path, "keys")
        key_store = self.signing_key_store or (
            FileSystemSigningKeyStore(key_dir) if key_dir else InMemorySigningKeyStore()
        )
        lock = getattr(key_store, "lock", None)
        key_manager = KeyManager(
            options.key_management,
            key_store,
            data_protection.create_protector(DATA_PROTECTION_KEY_PURPOSE),
            clock,
            lock,
        )
        key_material = DefaultKeyMaterialService(key_manager)
        replay = self.replay_cache or InMemoryReplayCache()
        sink = self.event_sink or LoggingEventSink()
        events = DefaultEventService(options.events, sink, clock)
        handles = DefaultHandleGenerationService()
        grant_protector = (
            data_protection.create_protector(PERSISTED_GRANT_PURPOSE)
            if options.persisted_grants.data_protect_data
            else None
        )
        reference_tokens = reference_token_store(grants, handles, grant_protector, clock)
        token_creation = self.cls(DefaultTokenCreationService)(key_material, options)
        token_service = self.cls(DefaultTokenService)(
            self.cls(DefaultClaimsService)(profile), token_creation, reference_tokens, options, clock
        )
        shared = HashedSharedSecretValidator()
        limits = options.input_length_restrictions
        client_validator = self.cls(ClientSecretValidator)(
            clients, shared, PrivateKeyJwtSecretValidator(replay, clock), events, limits, clock
        )
        resource_validator = self.cls(DefaultResourceValidator)(resources)
        grant_validators: dict[str, GrantValidator] = {GrantType.CLIENT_CREDENTIALS: ClientCredentialsGrantValidator()}
        for grant_type, ext in self.extension_grant_validators.items():
            if grant_type in grant_validators:
                raise ValueError(f"extension grant {grant_type!r} collides with a built-in grant")
            from identityserver.validation.token_request.extension_grant import ExtensionGrantRequestValidator

            grant_validators[grant_type] = ExtensionGrantRequestValidator(ext)
        token_request_validator = self.cls(TokenRequestValidator)(
            grant_validators, options, resource_validator, clock, self.custom_token_request_validators
        )
        token_response_generator = self.cls(TokenResponseGenerator)(token_service, options, clock)
        token_validator = self.cls(TokenValidator)(options, key_material, clients, reference_tokens, clock)
        capabilities = ServerCapabilities(
            grant_types=list(grant_validators),
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
        )
        discovery = self.cls(DiscoveryResponseGenerator)(options, resources, key_material, capabilities)
        endpoints = self._endpoints(
            options,
            client_validator,
            token_request_validator,
            token_response_generator,
            events,
            discovery,
            key_material,
            resources,
            shared,
            token_validator,
            reference_tokens,
            clock,
        )
        router = EndpointRouter(endpoints)

        async def warm_keys() -> None:
            await key_manager.get_all_keys()

        capabilities.endpoints = router.paths
        cors = self.cors_policy or InMemoryCorsPolicyService(self._clients)
        return Services(
            options=options,
            clock=clock,
            clients=clients,
            resources=resources,
            persisted_grants=grants,
            signing_keys=key_store,
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
            client_secret_validator=client_validator,
            resource_validator=resource_validator,
            token_request_validator=token_request_validator,
            token_response_generator=token_response_generator,
            token_validator=token_validator,
            discovery=discovery,
            capabilities=capabilities,
            router=router,
            cors=cors,
            startup=[data_protection.initialize, warm_keys, *self._startup],
            shutdown=list(self._shutdown),
            background=list(self._background),
        )

    def _state_dir(self, explicit: str | None, name: str) -> Path | None:
        if explicit:
            return Path(explicit)
        return self.state_path / name if self.state_path is not None else None

    @staticmethod
    def _test_user_profile(users: TestUserStore) -> ProfileService:
        from identityserver.test_users import TestUserProfileService

        return TestUserProfileService(users)

    def _endpoints(
        self,
        options: IdentityServerOptions,
        client_validator: ClientSecretValidator,
        token_request_validator: TokenRequestValidator,
        token_response_generator: TokenResponseGenerator,
        events: DefaultEventService,
        discovery: DiscoveryResponseGenerator,
        key_material: DefaultKeyMaterialService,
        resources: ResourceStore,
        shared: HashedSharedSecretValidator,
        token_validator: TokenValidator,
        reference_tokens: Any,
        clock: Clock,
    ) -> list[Endpoint]:
        flags = options.endpoints
        result: list[Endpoint] = []
        if flags.enable_discovery_endpoint:
            result.append(Endpoint("Discovery", ProtocolRoutePaths.DISCOVERY, DiscoveryEndpoint(discovery)))
            result.append(
                Endpoint(
                    "DiscoveryKey",
                    ProtocolRoutePaths.DISCOVERY_WEB_KEYS,
                    DiscoveryKeyEndpoint(key_material, options.discovery.response_cache_interval),
                )
            )
        if flags.enable_token_endpoint:
            result.append(
                Endpoint(
                    "Token",
                    ProtocolRoutePaths.TOKEN,
                    self.cls(TokenEndpoint)(
                        client_validator, token_request_validator, token_response_generator, events
                    ),
                )
            )
        if flags.enable_introspection_endpoint:
            apis = ApiSecretValidator(resources, shared, events, options.input_length_restrictions, clock)
            result.append(
                Endpoint(
                    "Introspection",
                    ProtocolRoutePaths.INTROSPECTION,
                    self.cls(IntrospectionEndpoint)(
                        apis, token_validator, self.cls(IntrospectionResponseGenerator)(), events
                    ),
                )
            )
        if flags.enable_token_revocation_endpoint:
            result.append(
                Endpoint(
                    "Revocation",
                    ProtocolRoutePaths.REVOCATION,
                    self.cls(TokenRevocationEndpoint)(
                        client_validator, self.cls(TokenRevocationResponseGenerator)(reference_tokens), events
                    ),
                )
            )
        return result
