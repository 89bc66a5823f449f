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
    """Finds clients by id (Duende ``IClientStore``)."""

    async def find_client_by_id(self, client_id: str) -> Client | None:
        """Return the client (enabled or not) or ``None``."""
        ...


class ResourceStore(Protocol):
    """Identity resources, API scopes and API resources (Duende ``IResourceStore``)."""

    async def find_identity_resources_by_scope_name(self, scope_names: Sequence[str]) -> list[IdentityResource]:
        """The identity resources with these names."""

    async def find_api_scopes_by_name(self, scope_names: Sequence[str]) -> list[ApiScope]:
        """The API scopes with these names."""

    async def find_api_resources_by_scope_name(self, scope_names: Sequence[str]) -> list[ApiResource]:
        """The API resources that list any of these scopes."""

    async def find_api_resources_by_name(self, names: Sequence[str]) -> list[ApiResource]:
        """The API resources with these names (RFC 8707 resource indicators)."""

    async def get_all_resources(self) -> Resources:
        """Every identity resource, API scope and API resource (discovery, validation)."""


class PersistedGrantStore(Protocol):
    """Codes, refresh and reference tokens, consents and other grants by hashed key (Duende
    ``IPersistedGrantStore``)."""

    async def store(self, grant: PersistedGrant) -> None:
        """Insert the grant, or replace the one with the same key."""
        ...

    async def get(self, key: str) -> PersistedGrant | None:
        """The grant with this key, or ``None``."""

    async def get_all(self, grant_filter: PersistedGrantFilter) -> list[PersistedGrant]:
        """The grants matching the filter."""

    async def remove(self, key: str) -> None:
        """Remove the grant with this key (a missing key is ignored)."""

    async def remove_all(self, grant_filter: PersistedGrantFilter) -> None:
        """Remove every grant matching the filter."""

    async def take(self, key: str) -> PersistedGrant | None:
        """Atomically remove and return the grant: of N concurrent calls for one key exactly one gets it."""
        ...

    async def consume(self, key: str, consumed_time: datetime) -> PersistedGrant | None:
        """Atomically set ``consumed_time`` on an unconsumed grant and return it (``None`` if missing or
        already consumed): of N concurrent calls exactly one succeeds."""
        ...

    async def replace(self, key: str, grant: PersistedGrant, successor: PersistedGrant | None = None) -> bool:
        """Atomically remove the grant with ``key`` and store ``grant`` and, when given, ``successor`` (each under
        its own key, overwriting a grant stored there, as ``store`` does): of N concurrent calls for one key exactly
        one does all of it and gets ``True``; the others change nothing. A refresh token rotated away becomes its
        tombstone this way, and its successor is stored in the same step."""
        ...


class LockingStore(Protocol):
    """A store that can take a lock shared by every process that uses it."""

    def lock(self) -> AbstractAsyncContextManager[None]:
        """An exclusive lock across every process that shares the store, held while deciding whether to create
        a key (so that two processes starting at once create one key, not two)."""
        ...


class SigningKeyStore(LockingStore, Protocol):
    """Persists the signing keys the key manager creates (Duende ``ISigningKeyStore``)."""

    async def load_keys(self) -> list[SerializedKey]:
        """Every stored key."""

    async def store_key(self, key: SerializedKey) -> None:
        """Store a new key."""

    async def delete_key(self, key_id: str) -> None:
        """Delete the key with this id (a retired key)."""


class DataProtectionKeyStore(LockingStore, Protocol):
    """Persists the data-protection key ring (ASP.NET ``IXmlRepository``)."""

    async def load_keys(self) -> list[DataProtectionKey]:
        """Every key of the ring."""

    async def store_key(self, key: DataProtectionKey) -> None:
        """Store a new key."""


class DeviceFlowStore(Protocol):
    """Device authorizations (RFC 8628). ``device_code`` arguments are hashed handles, never raw codes."""

    async def store_device_authorization(self, device_code: str, user_code: str, data: DeviceCode) -> None:
        """Store the authorization under its hashed device code and user code."""

    async def find_by_user_code(self, user_code: str) -> DeviceCode | None:
        """The authorization of a normalized user code, or ``None``."""

    async def find_by_device_code(self, device_code: str) -> DeviceCode | None:
        """The authorization of a hashed device code, or ``None``."""

    async def update_by_user_code(self, user_code: str, data: DeviceCode) -> None:
        """Replace the authorization of a user code (the user's decision)."""

    async def remove_by_device_code(self, device_code: str) -> None:
        """Remove the authorization of a hashed device code."""

    async def take_by_device_code(self, device_code: str) -> DeviceCode | None:
        """Atomically remove and return the authorization: of N concurrent calls exactly one gets it (the
        device grant redeems a code once, RFC 8628 §3.5)."""
        ...


class ServerSideSessionStore(Protocol):
    """Server-side user sessions (Duende ``IServerSideSessionStore``)."""

    async def get_session(self, key: str) -> ServerSideSession | None:
        """The session with this key, or ``None``."""

    async def create_session(self, session: ServerSideSession) -> None:
        """Store a new session."""

    async def update_session(self, session: ServerSideSession) -> None:
        """Replace the session with the same key."""

    async def delete_session(self, key: str) -> None:
        """Delete the session with this key."""

    async def get_sessions(self, session_filter: SessionFilter) -> list[ServerSideSession]:
        """The sessions matching the filter (subject, session id)."""

    async def delete_sessions(self, session_filter: SessionFilter) -> None:
        """Delete the sessions matching the filter."""

    async def get_and_remove_expired_sessions(self, now: datetime, count: int) -> list[ServerSideSession]:
        """Remove up to ``count`` sessions whose ``expires`` is before ``now`` and return them (atomic per
        session: two processes never both get the same session)."""
        ...

    async def query_sessions(self, query: SessionQuery) -> QueryResult:
        """A page of sessions matching the query (the session management pages)."""


class TokenCleanupService(Protocol):
    """Removes expired persisted grants, consumed grants past ``consumed_token_cleanup_delay`` (when
    ``remove_consumed_tokens``) and expired device codes (Duende ``ITokenCleanupService``, new in 6.3)."""

    async def cleanup_grants(self) -> None:
        """One cleanup pass."""


class UserStore(Protocol):
    """The users the built-in login page signs in (test users from the configuration file by default)."""

    async def validate_credentials(self, username: str, password: str) -> TestUser | None:
        """The user when the password matches, doing the same work whether or not the user exists."""
        ...

    async def find_by_subject_id(self, subject_id: str) -> TestUser | None:
        """The user with this subject id, or ``None``."""

    async def find_by_username(self, username: str) -> TestUser | None:
        """The user with this username, or ``None``."""

    async def auto_provision_user(self, username: str, password: str, claims: list[Claim]) -> TestUser:
        """Create a user (the create-account page of ``prompt=create``)."""
        ...


@runtime_checkable
class ClientConfigurationStore(Protocol):
    """Adds clients created by dynamic registration (Duende ``IClientConfigurationStore``)."""

    async def add(self, client: Client) -> None:
        """Store a new client."""


@runtime_checkable
class ClientRegistrationStore(Protocol):
    """A ``ClientConfigurationStore`` that can also read, replace and remove a registered client, uncached
    (RFC 7592 client configuration endpoint). The in-memory and SQL stores are; without one, registration
    works but issues no registration access token."""

    async def find_client_by_id(self, client_id: str) -> Client | None:
        """The stored client, read uncached (RFC 7592 reads see the latest update)."""

    async def add(self, client: Client) -> None:
        """Store a new client."""

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
    """Makes the random handles of codes and tokens (Duende ``IHandleGenerationService``)."""

    def generate_handle(self) -> str:
        """A new random handle (256 bits, RFC 6749 §10.10)."""


@runtime_checkable
class ListableClientStore(Protocol):
    """A client store that can list its clients: what the portal page and the default CORS policy read. The
    in-memory and SQL stores are listable; register one with ``builder.add(ListableClientStore, ...)`` beside a
    custom client store that is not."""

    async def get_all_clients(self) -> list[Client]:
        """Every client."""


@runtime_checkable
class CachedStore(Protocol):
    """A store whose answers may be up to ``cache_seconds`` old (a caching decorator; ``math.inf`` for static
    configuration). What is derived from its answers may be memoized as long (the resource validator does)."""

    cache_seconds: float


T = TypeVar("T")


class GrantStore(Protocol, Generic[T]):
    """Protected, hashed-handle storage of one kind of grant over the ``PersistedGrantStore`` (Duende
    ``DefaultGrantStore<T>``)."""

    def get_hashed_key(self, handle: str) -> str:
        """The key a handle is stored under (its hash, never the handle itself)."""

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
    ) -> str:
        """Store the item, protected, under a new handle (or ``handle``); return the handle."""

    async def new_item(
        self,
        item: T,
        client_id: str,
        subject_id: str | None,
        session_id: str | None,
        description: str | None,
        created: int,
        lifetime: int | None,
        handle: str | None = None,
    ) -> tuple[str, PersistedGrant]:
        """The handle and the row ``store_item`` would store, not stored: for a caller that stores the row with
        another change in one atomic step (a refresh token's successor, ``PersistedGrantStore.replace``)."""

    async def get_item(self, handle: str) -> tuple[T, PersistedGrant] | None:
        """The item and its row, or ``None`` when unknown, of another type, or expired."""

    async def take_item(self, handle: str) -> tuple[T, PersistedGrant] | None:
        """Atomically remove and return the item (one-time artefacts such as codes)."""

    async def consume_item(self, handle: str) -> tuple[T, PersistedGrant] | None:
        """Atomically mark the item consumed and return it; ``None`` when missing or already consumed."""

    async def remove_item(self, handle: str) -> None:
        """Remove the item of this handle."""

    async def remove_all(self, subject_id: str | None, client_id: str | None, session_id: str | None = None) -> None:
        """Remove the items of this kind for the subject, client and session given."""

    async def serialize(self, item: T) -> str:
        """The item as stored (protected when data protection of grants is on)."""

    async def deserialize(self, data: str) -> T:
        """The item back from what ``serialize`` stored."""


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

    async def find(self, credential_id: str) -> PasskeyCredential | None:
        """The credential with this id, or ``None``."""

    async def find_by_subject(self, subject_id: str) -> list[PasskeyCredential]:
        """The user's credentials, oldest first."""
        ...

    async def record_use(self, credential_id: str, sign_count: int, backed_up: bool, used: datetime) -> bool:
        """Atomically store the new counter unless the stored one is not lower (WebAuthn §6.1.1: a counter that does
        not grow may mean a cloned authenticator); counters that stay 0 (authenticators without one) pass."""
        ...

    async def rename(self, subject_id: str, credential_id: str, name: str) -> bool:
        """Rename the user's credential; ``False`` when the user has no such credential."""

    async def remove(self, subject_id: str, credential_id: str) -> bool:
        """Remove the user's credential; ``False`` when the user has no such credential."""


class TotpStore(Protocol):
    """Users' TOTP second factors (docs/sign-in.md); ``storage`` keeps them in ``IdentityServerUserTotp``."""

    async def get(self, subject_id: str) -> TotpEnrolment | None:
        """The user's enrolment, or ``None``."""

    async def save(self, enrolment: TotpEnrolment) -> None:
        """Insert or replace the user's enrolment."""
        ...

    async def remove(self, subject_id: str) -> None:
        """Remove the user's enrolment (secret and recovery codes)."""

    async def use_step(self, subject_id: str, step: int) -> bool:
        """Atomically record ``step`` as used when it is later than the last used one (RFC 6238 §5.2); ``False``
        for a replayed or older step: of N concurrent calls with one step exactly one succeeds."""
        ...

    async def use_recovery_code(self, subject_id: str, code_hash: str) -> bool:
        """Atomically remove one unused recovery code's hash; ``False`` when it is not (or no longer) there."""
        ...
