"""The composition root (Duende ``IIdentityServerBuilder`` extensions, in snake_case).

Register stores and services, override pipeline stages by subclass, decorate anything, then ``build()`` a
frozen ``Services``. Defaults fill only the slots left empty."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from identityserver.clock import Clock, SystemClock
from identityserver.models.client import Client
from identityserver.models.resources import ApiResource, ApiScope, IdentityResource
from identityserver.models.users import TestUser
from identityserver.options import IdentityServerOptions
from identityserver.services.protocols import CorsPolicyService, EventSink, ProfileService
from identityserver.stores.protocols import (
    ClientConfigurationStore,
    ClientStore,
    DataProtectionKeyStore,
    PersistedGrantStore,
    ReplayCache,
    ResourceStore,
    ServerSideSessionStore,
    SigningKeyStore,
    UserStore,
)
from identityserver.validation.protocols import (
    CustomTokenRequestValidator,
    ExtensionGrantValidator,
    ResourceOwnerPasswordValidator,
)

if TYPE_CHECKING:
    import httpx

    from identityserver.hosting.services import Services

T = TypeVar("T")


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
        self.server_side_session_store: ServerSideSessionStore | None = None
        self.user_store: UserStore | None = None
        self.client_configuration_store: ClientConfigurationStore | None = None
        self.portal_clients: Callable[[], Awaitable[list[Client]]] | None = None
        """Lists the clients with an ``initiate_login_uri`` for the portal page (SQL stores set it)."""
        self.resource_owner_validator: ResourceOwnerPasswordValidator | None = None
        self.http_client_factory: Callable[[], httpx.AsyncClient] | None = None
        """Makes the HTTP client for outgoing calls (back-channel logout); tests inject a transport here."""
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

    def add_server_side_sessions(self, store: ServerSideSessionStore | None = None) -> IdentityServerBuilder:
        """Keep user sessions in a store (in memory unless given) instead of only in the cookie."""
        from identityserver.stores.in_memory import InMemoryServerSideSessionStore

        self.server_side_session_store = store or InMemoryServerSideSessionStore()
        return self

    def add_client_configuration_store(self, store: ClientConfigurationStore) -> IdentityServerBuilder:
        """Where dynamic client registration adds clients (the in-memory client store when unset)."""
        self.client_configuration_store = store
        return self

    def add_user_store(self, store: UserStore) -> IdentityServerBuilder:
        """The users the built-in login page signs in (e.g. the SQL user store) instead of the configuration's
        test users."""
        self.user_store = store
        return self

    def add_resource_owner_validator(self, validator: ResourceOwnerPasswordValidator) -> IdentityServerBuilder:
        """Enable the ``password`` grant with this validator (test users register one automatically)."""
        self.resource_owner_validator = validator
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

    # -- build ------------------------------------------------------------------------------------------

    def build(self) -> Services:
        from identityserver.configuration.wiring import build_services

        return build_services(self)

    @property
    def clients(self) -> list[Client]:
        return list(self._clients)

    @property
    def identity_resources(self) -> list[IdentityResource]:
        return list(self._identity_resources)

    @property
    def api_scopes(self) -> list[ApiScope]:
        return list(self._api_scopes)

    @property
    def api_resources(self) -> list[ApiResource]:
        return list(self._api_resources)

    @property
    def users(self) -> list[TestUser] | None:
        return None if self._users is None else list(self._users)

    @property
    def startup_steps(self) -> list[Callable[[], Awaitable[None]]]:
        return list(self._startup)

    @property
    def shutdown_steps(self) -> list[Callable[[], Awaitable[None]]]:
        return list(self._shutdown)

    @property
    def background_jobs(self) -> list[Callable[[], Awaitable[None]]]:
        return list(self._background)

    def decorated(self, slot: str, value: T) -> T:
        for wrapper in self._decorators.get(slot, []):
            value = wrapper(value)
        return value

    def state_dir(self, explicit: str | None, name: str) -> Path | None:
        if explicit:
            return Path(explicit)
        return self.state_path / name if self.state_path is not None else None
