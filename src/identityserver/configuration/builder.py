"""The composition root's registration API (Duende ``IIdentityServerBuilder`` extensions, in snake_case).

Register collaborators by their Protocol (or, for pipeline stages, by their class), then ``build()`` a frozen
``Services``. Every default is built through the same registry (``configuration.registry``), so each one can be
replaced with ``add`` / ``add_factory``, subclassed with ``override`` or wrapped with ``decorate``, and a
registration that nothing used is a start-up error, never a silent no-op::

    builder = IdentityServerBuilder(options)
    builder.add(ProfileService, DirectoryProfileService())
    builder.override(TokenResponseGenerator, AuditedTokenResponseGenerator)
    builder.decorate(ClientStore, lambda inner: AuditingClientStore(inner))
    services = builder.build()
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

from typing_extensions import TypeForm

from identityserver.clock import Clock, SystemClock
from identityserver.configuration.registry import Registration, Registrations, Resolver, check_instance, slot_name
from identityserver.models.client import Client
from identityserver.models.resources import ApiResource, ApiScope, IdentityResource
from identityserver.models.users import TestUser
from identityserver.options import IdentityServerOptions
from identityserver.services.protocols import CorsPolicyService, EventSink, HttpClientFactory, ProfileService
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
    CustomAuthorizeRequestValidator,
    CustomTokenRequestValidator,
    ExtensionGrantValidator,
    ResourceOwnerPasswordValidator,
)

if TYPE_CHECKING:
    from identityserver.hosting.services import Services

T = TypeVar("T")


class IdentityServerBuilder:
    """Collects registrations; ``build()`` composes the defaults around them."""

    def __init__(self, options: IdentityServerOptions | None = None, state_path: str | Path | None = None) -> None:
        self.options = options or IdentityServerOptions()
        self.state_path = Path(state_path) if state_path is not None else None
        self.clock: Clock = SystemClock()
        self.registrations = Registrations()
        self.server_side_sessions_enabled = False
        """Set by ``add_server_side_sessions``; ``options.server_side_sessions.enabled`` turns them on too."""
        self._clients: list[Client] = []
        self._identity_resources: list[IdentityResource] = []
        self._api_scopes: list[ApiScope] = []
        self._api_resources: list[ApiResource] = []
        self._users: list[TestUser] | None = None
        self._startup: list[Callable[[], Awaitable[None]]] = []
        self._shutdown: list[Callable[[], Awaitable[None]]] = []
        self._background: list[Callable[[], Awaitable[None]]] = []

    # -- the registry ------------------------------------------------------------------------------------

    def add(self, key: TypeForm[T], instance: T) -> Self:
        """Use ``instance`` for the slot ``key`` (a Protocol such as ``ClientStore``, or a pipeline-stage
        class). It must have every member the Protocol declares; a later ``add`` for the same slot replaces an
        earlier one."""
        check_instance(key, instance)
        self.registrations.instances[key] = Registration("instance", key, instance)
        self.registrations.factories.pop(key, None)
        return self

    def add_factory(self, key: TypeForm[T], factory: Callable[[Resolver], T]) -> Self:
        """Build the slot ``key`` with ``factory(resolver)`` at ``build()``; ``resolver.get(OtherProtocol)``
        gives the other collaborators (e.g. the ``UserStore`` a custom profile service reads)."""
        self.registrations.factories[key] = Registration("factory", key, factory)
        self.registrations.instances.pop(key, None)
        return self

    def override(self, key: TypeForm[T], subclass: type[T]) -> Self:
        """Build ``subclass`` wherever the default for ``key`` is built, with the default's constructor
        arguments (the way to change one step of a pipeline stage such as ``TokenRequestValidator``).
        ``subclass`` must subclass the default class; ``build()`` checks it."""
        if not isinstance(subclass, type):
            raise TypeError(f"override for {slot_name(key)} takes a class, not {subclass!r}")
        if isinstance(key, type) and not getattr(key, "_is_protocol", False) and not issubclass(subclass, key):
            raise TypeError(f"{subclass.__name__} must subclass {key.__name__}")
        self.registrations.overrides[key] = Registration("override", key, subclass)
        return self

    def decorate(self, key: TypeForm[T], wrapper: Callable[[T], T]) -> Self:
        """Wrap whatever is built for ``key`` (default or registered) with ``wrapper(inner)``; decorators apply
        in registration order."""
        self.registrations.decorators.setdefault(key, []).append(Registration("decorator", key, wrapper))
        return self

    def add_item(self, key: TypeForm[T], item: T) -> Self:
        """Append ``item`` to a list slot (custom request validators, extension grants)."""
        check_instance(key, item)
        self.registrations.items.setdefault(key, []).append(Registration("item", key, item))
        return self

    def add_item_factory(self, key: TypeForm[T], factory: Callable[[Resolver], T]) -> Self:
        """Append ``factory(resolver)`` to a list slot at ``build()`` (an extension grant that needs other
        collaborators)."""
        self.registrations.items.setdefault(key, []).append(Registration("item factory", key, factory))
        return self

    # -- configuration data --------------------------------------------------------------------------------

    def add_in_memory_clients(self, clients: Iterable[Client]) -> Self:
        self._clients.extend(clients)
        return self

    def add_in_memory_identity_resources(self, resources: Iterable[IdentityResource]) -> Self:
        self._identity_resources.extend(resources)
        return self

    def add_in_memory_api_scopes(self, scopes: Iterable[ApiScope]) -> Self:
        self._api_scopes.extend(scopes)
        return self

    def add_in_memory_api_resources(self, resources: Iterable[ApiResource]) -> Self:
        self._api_resources.extend(resources)
        return self

    def add_test_users(self, users: Iterable[TestUser]) -> Self:
        """Users for the built-in login page and the ``password`` grant (Duende ``AddTestUsers``)."""
        self._users = [*(self._users or []), *users]
        return self

    # -- typed shortcuts (each is ``add`` with the slot's Protocol) ---------------------------------------------

    def set_clock(self, clock: Clock) -> Self:
        self.clock = clock
        return self

    def add_client_store(self, store: ClientStore) -> Self:
        return self.add(ClientStore, store)

    def add_resource_store(self, store: ResourceStore) -> Self:
        return self.add(ResourceStore, store)

    def add_persisted_grant_store(self, store: PersistedGrantStore) -> Self:
        return self.add(PersistedGrantStore, store)

    def add_signing_key_store(self, store: SigningKeyStore) -> Self:
        return self.add(SigningKeyStore, store)

    def add_data_protection_key_store(self, store: DataProtectionKeyStore) -> Self:
        return self.add(DataProtectionKeyStore, store)

    def add_replay_cache(self, cache: ReplayCache) -> Self:
        return self.add(ReplayCache, cache)

    def add_event_sink(self, sink: EventSink) -> Self:
        return self.add(EventSink, sink)

    def add_profile_service(self, service: ProfileService) -> Self:
        return self.add(ProfileService, service)

    def add_cors_policy_service(self, service: CorsPolicyService) -> Self:
        return self.add(CorsPolicyService, service)

    def add_http_client_factory(self, factory: HttpClientFactory) -> Self:
        """Makes the HTTP client for outgoing calls (back-channel logout); tests inject a transport here."""
        return self.add(HttpClientFactory, factory)

    def add_server_side_sessions(self, store: ServerSideSessionStore | None = None) -> Self:
        """Keep user sessions in a store (in memory unless given) instead of only in the cookie."""
        self.server_side_sessions_enabled = True
        if store is not None:
            self.add(ServerSideSessionStore, store)
        return self

    def add_client_configuration_store(self, store: ClientConfigurationStore) -> Self:
        """Where dynamic client registration adds clients (the client store itself when it can add)."""
        return self.add(ClientConfigurationStore, store)

    def add_user_store(self, store: UserStore) -> Self:
        """The users the built-in login page signs in (e.g. the SQL user store) instead of test users."""
        return self.add(UserStore, store)

    def add_resource_owner_validator(self, validator: ResourceOwnerPasswordValidator) -> Self:
        """Enable the ``password`` grant with this validator (test users register one automatically)."""
        return self.add(ResourceOwnerPasswordValidator, validator)

    def add_custom_token_request_validator(self, validator: CustomTokenRequestValidator) -> Self:
        """Runs after the built-in token request checks (Duende ``AddCustomTokenRequestValidator``)."""
        return self.add_item(CustomTokenRequestValidator, validator)

    def add_custom_authorize_request_validator(self, validator: CustomAuthorizeRequestValidator) -> Self:
        """Runs after the built-in authorize request checks (Duende ``AddCustomAuthorizeRequestValidator``)."""
        return self.add_item(CustomAuthorizeRequestValidator, validator)

    def add_extension_grant_validator(self, validator: ExtensionGrantValidator) -> Self:
        """Enable an extension grant type (Duende ``AddExtensionGrantValidator``)."""
        registered = self.registrations.items.get(ExtensionGrantValidator, [])
        taken = {r.value.grant_type for r in registered if r.kind == "item"}
        if validator.grant_type in taken:
            raise ValueError(f"an extension grant validator for {validator.grant_type!r} is already registered")
        return self.add_item(ExtensionGrantValidator, validator)

    # -- lifecycle -------------------------------------------------------------------------------------------

    def on_startup(self, step: Callable[[], Awaitable[None]]) -> Self:
        """Run ``step`` when the application starts (after the key ring and keys are ready)."""
        self._startup.append(step)
        return self

    def on_shutdown(self, step: Callable[[], Awaitable[None]]) -> Self:
        self._shutdown.append(step)
        return self

    def add_background_job(self, job: Callable[[], Awaitable[None]]) -> Self:
        """A long-running coroutine started with the application and cancelled when it stops."""
        self._background.append(job)
        return self

    # -- build ------------------------------------------------------------------------------------------

    def build(self) -> Services:
        """Compose every collaborator; raises ``UnusedRegistrationError`` naming registrations nothing used,
        ``CompositionError`` for a dependency cycle or a missing collaborator, ``TypeError`` for an instance or
        override that cannot serve its slot, and ``ValueError`` for configuration that cannot work (e.g. an API
        whose signing algorithms the server has no key for)."""
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

    def state_dir(self, explicit: str | None, name: str) -> Path | None:
        if explicit:
            return Path(explicit)
        return self.state_path / name if self.state_path is not None else None

    def registered(self, key: object) -> Any:
        """The instance registered for ``key`` (``None`` when none): for hosts that adjust a registration."""
        found = self.registrations.instances.get(key)
        return found.value if found is not None else None

    def remove(self, key: object) -> Self:
        """Forget the instance or factory registered for ``key`` (the default is built again)."""
        self.registrations.instances.pop(key, None)
        self.registrations.factories.pop(key, None)
        return self
