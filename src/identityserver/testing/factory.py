"""``StoreFactory``: what a backend provides to the contract suite.

A factory builds stores on one backend. The ``store_factory`` fixture returns a new factory for each test, on
backing storage that is empty at the start of that test (a fresh database, emptied tables, a new key prefix);
stores that a test creates through one factory share that storage. Override the methods for the stores your
backend has; the contract classes of the others are simply not subclassed (the defaults raise
``NotImplementedError``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from identityserver.clock import Clock
from identityserver.models.client import Client
from identityserver.models.resources import ApiResource, ApiScope, IdentityResource
from identityserver.models.users import TestUser
from identityserver.options import OperationalStoreOptions
from identityserver.stores.protocols import (
    BackChannelLogoutQueue,
    ClientRegistrationStore,
    ClientStore,
    DataProtectionKeyStore,
    DeviceFlowStore,
    PasskeyStore,
    PersistedGrantStore,
    ReplayCache,
    ResourceStore,
    ServerSideSessionStore,
    SigningKeyStore,
    TokenCleanupService,
    TotpStore,
    UserStore,
)


@dataclass(frozen=True, slots=True)
class TokenCleanup:
    """A token cleanup service and the two stores it cleans, on one backend."""

    grants: PersistedGrantStore
    devices: DeviceFlowStore
    service: TokenCleanupService


class StoreFactory:
    """Builds the stores of one backend for one test (see the module docstring)."""

    def _missing(self, what: str) -> NotImplementedError:
        return NotImplementedError(f"{type(self).__name__} does not build {what}")

    async def client_store(self, clients: Sequence[Client]) -> ClientStore:
        """A client store holding ``clients`` (configuration stores are read-only: seed them here)."""
        raise self._missing("a client store")

    async def client_registration_store(self, clients: Sequence[Client]) -> ClientRegistrationStore:
        """A store of dynamically registered clients (RFC 7592) holding ``clients``."""
        raise self._missing("a client registration store")

    async def resource_store(
        self,
        identity_resources: Sequence[IdentityResource] = (),
        api_scopes: Sequence[ApiScope] = (),
        api_resources: Sequence[ApiResource] = (),
    ) -> ResourceStore:
        """A resource store holding the given resources."""
        raise self._missing("a resource store")

    async def persisted_grant_store(self) -> PersistedGrantStore:
        raise self._missing("a persisted grant store")

    async def device_flow_store(self) -> DeviceFlowStore:
        raise self._missing("a device flow store")

    async def signing_key_store(self) -> SigningKeyStore:
        raise self._missing("a signing key store")

    async def data_protection_key_store(self) -> DataProtectionKeyStore:
        raise self._missing("a data protection key store")

    async def server_side_session_store(self) -> ServerSideSessionStore:
        raise self._missing("a server-side session store")

    async def replay_cache(self) -> ReplayCache:
        """A replay cache on the real clock (the contract waits for values to expire)."""
        raise self._missing("a replay cache")

    async def user_store(self, users: Sequence[TestUser]) -> UserStore:
        """A user store holding ``users``."""
        raise self._missing("a user store")

    async def token_cleanup(self, options: OperationalStoreOptions, clock: Clock) -> TokenCleanup:
        """A cleanup service with ``options`` and ``clock``, and the grant and device stores it cleans."""
        raise self._missing("a token cleanup service")

    async def backchannel_logout_queue(self) -> BackChannelLogoutQueue:
        """A back-channel logout queue; queues made by one factory share their deliveries."""
        raise self._missing("a back-channel logout queue")

    async def passkey_store(self) -> PasskeyStore:
        raise self._missing("a passkey store")

    async def totp_store(self) -> TotpStore:
        raise self._missing("a TOTP store")
