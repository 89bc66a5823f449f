"""Handle-based grant stores over one ``PersistedGrantStore`` (Duende ``DefaultGrantStore<T>`` and its
subclasses). Only the SHA-256 of a handle is stored; payloads are data-protected when configured."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from identityserver._utils import json_bytes
from identityserver.clock import Clock
from identityserver.constants import PersistedGrantTypes
from identityserver.crypto.hashing import hashed_grant_key
from identityserver.crypto.protection import DataProtector
from identityserver.models.grants import (
    AuthorizationCode,
    PersistedGrant,
    PersistedGrantFilter,
    RefreshToken,
    Token,
)
from identityserver.stores import serialization
from identityserver.stores.protocols import HandleGenerationService, PersistedGrantStore

T = TypeVar("T")
CONTAINER_VERSION = 1


class GrantPayloadError(ValueError):
    """A stored payload could not be read (tampered, protected with unknown keys, or malformed)."""


class DefaultGrantStore(Generic[T]):
    """Stores items of one grant type keyed by a hashed handle."""

    def __init__(
        self,
        grant_type: str,
        store: PersistedGrantStore,
        handles: HandleGenerationService,
        protector: DataProtector | None,
        clock: Clock,
        to_dict: Callable[[T], dict[str, Any]],
        from_dict: Callable[[dict[str, Any]], T],
    ) -> None:
        self.grant_type = grant_type
        self.store = store
        self.handles = handles
        self.protector = protector
        self.clock = clock
        self._to_dict = to_dict
        self._from_dict = from_dict

    def get_hashed_key(self, handle: str) -> str:
        return hashed_grant_key(handle, self.grant_type)

    async def serialize(self, item: T) -> str:
        payload = json_bytes.dumps(self._to_dict(item))
        if self.protector is not None:
            protected = await self.protector.protect(payload)
            return json_bytes.dumps(
                {"PersistentGrantDataContainerVersion": CONTAINER_VERSION, "DataProtected": True, "Payload": protected}
            ).decode("utf-8")
        return json_bytes.dumps(
            {
                "PersistentGrantDataContainerVersion": CONTAINER_VERSION,
                "DataProtected": False,
                "Payload": payload.decode("utf-8"),
            }
        ).decode("utf-8")

    async def deserialize(self, data: str) -> T:
        try:
            container = json_bytes.loads(data)
            if not isinstance(container, dict) or "PersistentGrantDataContainerVersion" not in container:
                payload: bytes | str = data  # a pre-container payload stored as plain JSON
            elif container.get("DataProtected"):
                if self.protector is None:
                    raise GrantPayloadError("payload is protected but data protection is not configured")
                payload = await self.protector.unprotect(str(container["Payload"]))
            else:
                payload = str(container["Payload"])
            return self._from_dict(json_bytes.loads(payload))
        except GrantPayloadError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise GrantPayloadError(f"{self.grant_type} payload cannot be read: {type(exc).__name__}") from exc

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
        handle, grant = await self.new_item(
            item, client_id, subject_id, session_id, description, created, lifetime, handle
        )
        await self.store.store(grant)
        return handle

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
        handle = handle or self.handles.generate_handle()
        expiration = None if lifetime is None else datetime.fromtimestamp(created + lifetime, UTC)
        grant = PersistedGrant(
            key=self.get_hashed_key(handle),
            type=self.grant_type,
            client_id=client_id,
            subject_id=subject_id,
            session_id=session_id,
            description=description,
            creation_time=datetime.fromtimestamp(created, UTC),
            expiration=expiration,
            data=await self.serialize(item),
        )
        return handle, grant

    async def get_item(self, handle: str) -> tuple[T, PersistedGrant] | None:
        """The item and its row, or ``None`` when unknown, of another type, or expired."""
        grant = await self.store.get(self.get_hashed_key(handle))
        return await self._load(grant)

    async def take_item(self, handle: str) -> tuple[T, PersistedGrant] | None:
        """Atomically remove and return the item (one-time artefacts such as codes)."""
        grant = await self.store.take(self.get_hashed_key(handle))
        return await self._load(grant, check_expiry=False)

    async def consume_item(self, handle: str) -> tuple[T, PersistedGrant] | None:
        grant = await self.store.consume(self.get_hashed_key(handle), self.clock.utc_now())
        return await self._load(grant, check_expiry=False)

    async def _load(self, grant: PersistedGrant | None, check_expiry: bool = True) -> tuple[T, PersistedGrant] | None:
        if grant is None or grant.type != self.grant_type:
            return None
        if check_expiry and grant.expiration is not None and grant.expiration < self.clock.utc_now():
            return None
        try:
            return await self.deserialize(grant.data), grant
        except GrantPayloadError:
            return None

    async def remove_item(self, handle: str) -> None:
        await self.store.remove(self.get_hashed_key(handle))

    async def remove_all(self, subject_id: str | None, client_id: str | None, session_id: str | None = None) -> None:
        await self.store.remove_all(
            PersistedGrantFilter(
                subject_id=subject_id, client_id=client_id, session_id=session_id, type=self.grant_type
            )
        )


def reference_token_store(
    store: PersistedGrantStore,
    handles: HandleGenerationService,
    protector: DataProtector | None,
    clock: Clock,
) -> DefaultGrantStore[Token]:
    return DefaultGrantStore(
        PersistedGrantTypes.REFERENCE_TOKEN,
        store,
        handles,
        protector,
        clock,
        serialization.token_to_dict,
        serialization.token_from_dict,
    )


def authorization_code_store(
    store: PersistedGrantStore,
    handles: HandleGenerationService,
    protector: DataProtector | None,
    clock: Clock,
) -> DefaultGrantStore[AuthorizationCode]:
    return DefaultGrantStore(
        PersistedGrantTypes.AUTHORIZATION_CODE,
        store,
        handles,
        protector,
        clock,
        serialization.code_to_dict,
        serialization.code_from_dict,
    )


def refresh_token_store(
    store: PersistedGrantStore,
    handles: HandleGenerationService,
    protector: DataProtector | None,
    clock: Clock,
) -> DefaultGrantStore[RefreshToken]:
    return DefaultGrantStore(
        PersistedGrantTypes.REFRESH_TOKEN,
        store,
        handles,
        protector,
        clock,
        serialization.refresh_token_to_dict,
        serialization.refresh_token_from_dict,
    )
