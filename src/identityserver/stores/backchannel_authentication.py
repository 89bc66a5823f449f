"""CIBA requests over the persisted-grant store (Duende ``IBackChannelAuthenticationRequestStore``): rows of type
``ciba`` keyed by the hash of the ``auth_req_id``; payloads protected like every other grant. No table of its own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from identityserver.clock import Clock
from identityserver.constants import PersistedGrantTypes
from identityserver.crypto.protection import DataProtector
from identityserver.models.backchannel_authentication import BackChannelAuthenticationRequest
from identityserver.models.grants import PersistedGrant, PersistedGrantFilter
from identityserver.stores.grant_stores import DefaultGrantStore, GrantPayloadError
from identityserver.stores.protocols import HandleGenerationService, PersistedGrantStore


class BackChannelAuthenticationRequestStore(Protocol):
    """Stores CIBA requests (Duende ``IBackChannelAuthenticationRequestStore``). The ``auth_req_id`` is a handle
    only its client knows; everything else names a request by its ``internal_id`` (the hashed handle)."""

    async def create_request(self, request: BackChannelAuthenticationRequest) -> str:
        """Store a new request; return its ``auth_req_id``."""
        ...

    async def get_by_authentication_request_id(self, auth_req_id: str) -> BackChannelAuthenticationRequest | None:
        """The request (expired ones too: the grant answers ``expired_token`` for them), or ``None``."""
        ...

    async def get_by_internal_id(self, internal_id: str) -> BackChannelAuthenticationRequest | None:
        """The request, or ``None``."""

    async def get_logins_for_user(
        self, subject_id: str, client_id: str | None = None
    ) -> list[BackChannelAuthenticationRequest]:
        """The user's undecided, unexpired requests, oldest first."""
        ...

    async def update_by_internal_id(self, internal_id: str, request: BackChannelAuthenticationRequest) -> None:
        """Replace the request (the user's decision)."""

    async def take_by_internal_id(self, internal_id: str) -> BackChannelAuthenticationRequest | None:
        """Atomically remove and return the request: of concurrent callers exactly one gets it."""
        ...

    async def remove_by_internal_id(self, internal_id: str) -> None:
        """Remove the request."""


class DefaultBackChannelAuthenticationRequestStore:
    """The default ``BackChannelAuthenticationRequestStore`` over any ``PersistedGrantStore``."""

    def __init__(
        self,
        store: PersistedGrantStore,
        handles: HandleGenerationService,
        protector: DataProtector | None,
        clock: Clock,
    ) -> None:
        self.store = store
        self.handles = handles
        self.clock = clock
        self.grants: DefaultGrantStore[BackChannelAuthenticationRequest] = DefaultGrantStore(
            PersistedGrantTypes.BACKCHANNEL_AUTHENTICATION_REQUEST,
            store,
            handles,
            protector,
            clock,
            BackChannelAuthenticationRequest.to_dict,
            BackChannelAuthenticationRequest.from_dict,
        )

    async def create_request(self, request: BackChannelAuthenticationRequest) -> str:
        handle = self.handles.generate_handle()
        if request.client_notification_token is not None:
            request.ping_authentication_request_id = handle
        await self.grants.store_item(
            request,
            request.client_id,
            request.subject.subject_id,
            request.session_id,
            request.description,
            request.creation_time,
            request.lifetime,
            handle,
        )
        request.internal_id = self.grants.get_hashed_key(handle)
        return handle

    async def get_by_authentication_request_id(self, auth_req_id: str) -> BackChannelAuthenticationRequest | None:
        return await self.get_by_internal_id(self.grants.get_hashed_key(auth_req_id))

    async def get_by_internal_id(self, internal_id: str) -> BackChannelAuthenticationRequest | None:
        return await self._load(await self.store.get(internal_id))

    async def get_logins_for_user(
        self, subject_id: str, client_id: str | None = None
    ) -> list[BackChannelAuthenticationRequest]:
        rows = await self.store.get_all(
            PersistedGrantFilter(
                subject_id=subject_id, client_id=client_id, type=PersistedGrantTypes.BACKCHANNEL_AUTHENTICATION_REQUEST
            )
        )
        now = self.clock.timestamp()
        found = [request for row in rows if (request := await self._load(row)) is not None]
        pending = [r for r in found if not r.is_complete and r.expires_at > now]
        return sorted(pending, key=lambda r: r.creation_time)

    async def update_by_internal_id(self, internal_id: str, request: BackChannelAuthenticationRequest) -> None:
        await self.store.store(
            PersistedGrant(
                key=internal_id,
                type=PersistedGrantTypes.BACKCHANNEL_AUTHENTICATION_REQUEST,
                client_id=request.client_id,
                subject_id=request.subject.subject_id,
                session_id=request.session_id,
                description=request.description,
                creation_time=datetime.fromtimestamp(request.creation_time, UTC),
                expiration=datetime.fromtimestamp(request.expires_at, UTC),
                data=await self.grants.serialize(request),
            )
        )

    async def take_by_internal_id(self, internal_id: str) -> BackChannelAuthenticationRequest | None:
        return await self._load(await self.store.take(internal_id))

    async def remove_by_internal_id(self, internal_id: str) -> None:
        await self.store.remove(internal_id)

    async def _load(self, grant: PersistedGrant | None) -> BackChannelAuthenticationRequest | None:
        if grant is None or grant.type != PersistedGrantTypes.BACKCHANNEL_AUTHENTICATION_REQUEST:
            return None
        try:
            request = await self.grants.deserialize(grant.data)
        except GrantPayloadError:
            return None
        request.internal_id = grant.key
        return request
