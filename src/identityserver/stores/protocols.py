"""Store contracts (Duende ``src/Storage/Stores``). Every method is async; implementations live in
``stores/in_memory`` and ``storage/sqlalchemy``, and one contract test suite runs against all of them."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Generic, Protocol, TypeVar, runtime_checkable

from identityserver.models.claims import Claim
from identityserver.models.client import Client
from identityserver.models.grants import (
    AuthorizationCode,
    DeviceCode,
    PersistedGrant,
    PersistedGrantFilter,
    RefreshToken,
    Token,
)
from identityserver.models.keys import DataProtectionKey, SerializedKey
from identityserver.models.logout import BackChannelLogoutDelivery
from identityserver.models.resources import ApiResource, ApiScope, IdentityResource, Resources
from identityserver.models.sessions import QueryResult, ServerSideSession, SessionFilter, SessionQuery
from identityserver.models.sign_in_methods import PasskeyCredential, TotpEnrolment
from identityserver.models.users import TestUser


class ClientStore(Protocol):
    async def find_client_by_id(self, client_id: str) -> Client | None:
        """Return the client (enabled or not) or ``None``."""
        ...


class ResourceStore(Protocol):
    async def find_identity_resources_by_scope_name(self, scope_names: Sequence[str]) -> list[IdentityResource]: ...

    async def find_api_scopes_by_name(self, scope_names: Sequence[str]) -> list[ApiScope]: ...

    async def find_api_resources_by_scope_name(self, scope_names: Sequence[str]) -> list[ApiResource]: ...

    async def find_api_resources_by_name(self, names: Sequence[str]) -> list[ApiResource]: ...

    async def get_all_resources(self) -> Resources: ...


class PersistedGrantStore(Protocol):
    async def store(self, grant: PersistedGrant) -> None:
        """Insert the grant, or replace the one with the same key."""
        ...

    async def get(self, key: str) -> PersistedGrant | None: ...

    async def get_all(self, grant_filter: PersistedGrantFilter) -> list[PersistedGrant]: ...

    async def remove(self, key: str) -> None: ...

    async def remove_all(self, grant_filter: PersistedGrantFilter) -> None: ...

    async def take(self, key: str) -> PersistedGrant | None:
        """Atomically remove and return the grant: of N concurrent calls for one key exactly one gets it."""
        ...

    async def consume(self, key: str, consumed_time: datetime) -> PersistedGrant | None:
        """Atomically set ``consumed_time`` on an unconsumed grant and return it (``None`` if missing or
        already consumed): of N concurrent calls exactly one succeeds."""
        ...


class LockingStore(Protocol):
    def lock(self) -> AbstractAsyncContextManager[None]:
        """An exclusive lock across every process that shares the store, held while deciding whether to create
        a key (so that two processes starting at once create one key, not two)."""
        ...


class SigningKeyStore(LockingStore, Protocol):
    async def load_keys(self) -> list[SerializedKey]: ...

    async def store_key(self, key: SerializedKey) -> None: ...

    async def delete_key(self, key_id: str) -> None: ...


class DataProtectionKeyStore(LockingStore, Protocol):
    """Persists the data-protection key ring (ASP.NET ``IXmlRepository``)."""

    async def load_keys(self) -> list[DataProtectionKey]: ...

    async def store_key(self, key: DataProtectionKey) -> None: ...


class DeviceFlowStore(Protocol):
    """Device authorizations (RFC 8628). ``device_code`` arguments are hashed handles, never raw codes."""

    async def store_device_authorization(self, device_code: str, user_code: str, data: DeviceCode) -> None: ...

    async def find_by_user_code(self, user_code: str) -> DeviceCode | None: ...

    async def find_by_device_code(self, device_code: str) -> DeviceCode | None: ...

    async def update_by_user_code(self, user_code: str, data: DeviceCode) -> None: ...

    async def remove_by_device_code(self, device_code: str) -> None: ...

    async def take_by_device_code(self, device_code: str) -> DeviceCode | None:
        """Atomically remove and return the authorization: of N concurrent calls exactly one gets it (the
        device grant redeems a code once, RFC 8628 §3.5)."""
        ...


class ServerSideSessionStore(Protocol):
    """Server-side user sessions (Duende ``IServerSideSessionStore``)."""

    async def get_session(self, key: str) -> ServerSideSession | None: ...

    async def create_session(self, session: ServerSideSession) -> None: ...

    async def update_session(self, session: ServerSideSession) -> None: ...

    async def delete_session(self, key: str) -> None: ...

    async def get_sessions(self, session_filter: SessionFilter) -> list[ServerSideSession]: ...

    async def delete_sessions(self, session_filter: SessionFilter) -> None: ...

    async def get_and_remove_expired_sessions(self, now: datetime, count: int) -> list[ServerSideSession]:
        """Remove up to ``count`` sessions whose ``expires`` is before ``now`` and return them (atomic per
        session: two processes never both get the same session)."""
        ...

    async def query_sessions(self, query: SessionQuery) -> QueryResult: ...


class TokenCleanupService(Protocol):
    """Removes expired persisted grants, consumed grants past ``consumed_token_cleanup_delay`` (when
    ``remove_consumed_tokens``) and expired device codes (Duende ``ITokenCleanupService``, new in 6.3)."""

    async def cleanup_grants(self) -> None: ...


class UserStore(Protocol):
    """The users the built-in login page signs in (test users from the configuration file by default)."""

    async def validate_credentials(self, username: str, password: str) -> TestUser | None:
        """The user when the password matches, doing the same work whether or not the user exists."""
        ...

    async def find_by_subject_id(self, subject_id: str) -> TestUser | None: ...

    async def find_by_username(self, username: str) -> TestUser | None: ...

    async def auto_provision_user(self, username: str, password: str, claims: list[Claim]) -> TestUser:
        """Create a user (the create-account page of ``prompt=create``)."""
        ...


@runtime_checkable
class ClientConfigurationStore(Protocol):
    """Adds clients created by dynamic registration (Duende ``IClientConfigurationStore``)."""

    async def add(self, client: Client) -> None: ...


@runtime_checkable
class ClientRegistrationStore(Protocol):
    """A ``ClientConfigurationStore`` that can also read, replace and remove a registered client, uncached
    (RFC 7592 client configuration endpoint). The in-memory and SQL stores are; without one, registration
    works but issues no registration access token."""

    async def find_client_by_id(self, client_id: str) -> Client | None: ...

    async def add(self, client: Client) -> None: ...

    async def update(self, client: Client) -> None:
        """Replace the client with the same ``client_id``; raises ``LookupError`` when there is none."""
        ...

    async def remove(self, client_id: str) -> None:
        """Remove the client; raises ``LookupError`` when there is none."""
        ...


class ReplayCache(Protocol):
    """Remembers one-time values (DPoP ``jti``, client-assertion ``jti``) until they expire."""

    async def add(self, purpose: str, handle: str, lifetime_seconds: float) -> bool:
        """Atomically record the value; return ``False`` if it was already present (a replay)."""
        ...


class BackChannelLogoutQueue(Protocol):
    """Pending back-channel logout deliveries (OIDC Back-Channel Logout 1.0 §2.5), shared by every process, so
    that a restart or a crash loses none. A delivery is due when ``next_attempt_at <= now``; claiming it moves
    ``next_attempt_at`` to the end of the claimer's lease, so that if the claimer dies it becomes due again."""

    async def enqueue(self, deliveries: Sequence[BackChannelLogoutDelivery]) -> None:
        """Store the deliveries (new ids) in one transaction; each is due at its ``next_attempt_at``."""
        ...

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[BackChannelLogoutDelivery]:
        """Atomically lease up to ``limit`` deliveries due at ``now`` (earliest first) until ``lease_until`` and
        return them (with ``next_attempt_at == lease_until``): of concurrent callers, in any process, each
        delivery goes to one only."""
        ...

    async def complete(self, delivery_id: str) -> None:
        """Remove the delivery (sent, or given up); a missing id is ignored."""
        ...

    async def retry(self, delivery_id: str, next_attempt_at: datetime, attempts: int, last_error: str) -> None:
        """Record a failed attempt and make the delivery due again at ``next_attempt_at``."""
        ...


class HandleGenerationService(Protocol):
    def generate_handle(self) -> str: ...


@runtime_checkable
class ListableClientStore(Protocol):
    """A client store that can list its clients: what the portal page and the default CORS policy read. The
    in-memory and SQL stores are listable; register one with ``builder.add(ListableClientStore, ...)`` beside a
    custom client store that is not."""

    async def get_all_clients(self) -> list[Client]: ...


@runtime_checkable
class CachedStore(Protocol):
    """A store whose answers may be up to ``cache_seconds`` old (a caching decorator; ``math.inf`` for static
    configuration). What is derived from its answers may be memoized as long (the resource validator does)."""

    cache_seconds: float


T = TypeVar("T")


class GrantStore(Protocol, Generic[T]):
    """Protected, hashed-handle storage of one kind of grant over the ``PersistedGrantStore`` (Duende
    ``DefaultGrantStore<T>``)."""

    def get_hashed_key(self, handle: str) -> str: ...

    async def store_item(
        self,
        item: T,
        client_id: str,
        subject_id: str | None,
        session_id: str | None,
        description: str | None,
        created: int,
        lifetime: int | None,
        handle: str | None = None,
    ) -> str: ...

    async def get_item(self, handle: str) -> tuple[T, PersistedGrant] | None: ...

    async def take_item(self, handle: str) -> tuple[T, PersistedGrant] | None: ...

    async def consume_item(self, handle: str) -> tuple[T, PersistedGrant] | None: ...

    async def remove_item(self, handle: str) -> None: ...

    async def remove_all(
        self, subject_id: str | None, client_id: str | None, session_id: str | None = None
    ) -> None: ...

    async def serialize(self, item: T) -> str: ...

    async def deserialize(self, data: str) -> T: ...


class AuthorizationCodeStore(GrantStore[AuthorizationCode], Protocol):
    """Duende ``IAuthorizationCodeStore``."""


class RefreshTokenStore(GrantStore[RefreshToken], Protocol):
    """Duende ``IRefreshTokenStore``."""


class ReferenceTokenStore(GrantStore[Token], Protocol):
    """Duende ``IReferenceTokenStore``."""


class PasskeyStore(Protocol):
    """Users' WebAuthn credentials (docs/sign-in.md); ``storage`` keeps them in ``IdentityServerUserPasskeys``."""

    async def add(self, credential: PasskeyCredential) -> bool:
        """Store a new credential; ``False`` (nothing stored) when its id is already registered."""
        ...

    async def find(self, credential_id: str) -> PasskeyCredential | None: ...

    async def find_by_subject(self, subject_id: str) -> list[PasskeyCredential]:
        """The user's credentials, oldest first."""
        ...

    async def record_use(self, credential_id: str, sign_count: int, backed_up: bool, used: datetime) -> bool:
        """Atomically store the new counter unless the stored one is not lower (WebAuthn §6.1.1: a counter that does
        not grow may mean a cloned authenticator); counters that stay 0 (authenticators without one) pass."""
        ...

    async def rename(self, subject_id: str, credential_id: str, name: str) -> bool: ...

    async def remove(self, subject_id: str, credential_id: str) -> bool: ...


class TotpStore(Protocol):
    """Users' TOTP second factors (docs/sign-in.md); ``storage`` keeps them in ``IdentityServerUserTotp``."""

    async def get(self, subject_id: str) -> TotpEnrolment | None: ...

    async def save(self, enrolment: TotpEnrolment) -> None:
        """Insert or replace the user's enrolment."""
        ...

    async def remove(self, subject_id: str) -> None: ...

    async def use_step(self, subject_id: str, step: int) -> bool:
        """Atomically record ``step`` as used when it is later than the last used one (RFC 6238 §5.2); ``False``
        for a replayed or older step: of N concurrent calls with one step exactly one succeeds."""
        ...

    async def use_recovery_code(self, subject_id: str, code_hash: str) -> bool:
        """Atomically remove one unused recovery code's hash; ``False`` when it is not (or no longer) there."""
        ...
