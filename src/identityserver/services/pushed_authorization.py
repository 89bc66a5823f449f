"""Pushed authorization requests kept between ``/connect/par`` and the authorize endpoint (RFC 9126 §2.2, §4;
IdentityServer 7's ``IPushedAuthorizationService``).

Each pushed request is a persisted grant of type ``pushed_authorization_request`` keyed by the SHA-256 of its
handle (the handle is the tail of the ``request_uri``), its parameters data-protected like every grant. Taking one
is the store's atomic ``take``, so a ``request_uri`` is used once even across processes (RFC 9126 §4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from identityserver.clock import Clock
from identityserver.constants import PersistedGrantTypes
from identityserver.crypto.protection import DataProtector
from identityserver.stores.grant_stores import DefaultGrantStore
from identityserver.stores.protocols import HandleGenerationService, PersistedGrantStore

#: RFC 9126 §2.2: the ``request_uri`` of a pushed request is this URN followed by a random reference.
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"


@dataclass(slots=True)
class PushedAuthorizationRequest:
    """The validated parameters of a pushed request, as the authorize endpoint will use them."""

    client_id: str
    parameters: dict[str, str]
    """The authorize parameters after request-object processing (``request`` itself is not kept)."""
    resources: list[str] = field(default_factory=list)
    """RFC 8707 resource indicators (the one parameter that repeats)."""
    request_object_used: bool = False
    """The parameters came from a request object (a ``require_request_object`` client's requirement is met)."""
    pushed: bool = True
    """False for a continuation of a request that was not pushed (never marks it as PAR)."""


def request_to_dict(request: PushedAuthorizationRequest) -> dict[str, Any]:
    return {
        "client_id": request.client_id,
        "parameters": request.parameters,
        "resources": request.resources,
        "request_object_used": request.request_object_used,
        "pushed": request.pushed,
    }


def request_from_dict(data: dict[str, Any]) -> PushedAuthorizationRequest:
    parameters = data["parameters"]
    if not isinstance(parameters, dict):
        raise TypeError("parameters must be an object")
    return PushedAuthorizationRequest(
        client_id=str(data["client_id"]),
        parameters={str(k): str(v) for k, v in parameters.items()},
        resources=[str(r) for r in data.get("resources") or []],
        request_object_used=bool(data.get("request_object_used")),
        pushed=bool(data.get("pushed", True)),
    )


class PushedAuthorizationService(Protocol):
    """Stores pushed authorization requests and hands each back once (RFC 9126)."""

    async def store(self, request: PushedAuthorizationRequest, lifetime: int) -> str:
        """Keep ``request`` for ``lifetime`` seconds; the ``request_uri`` that names it."""
        ...

    async def get(self, request_uri: str) -> PushedAuthorizationRequest | None:
        """The unexpired request behind ``request_uri``, without using it up (for validation and the login page)."""
        ...

    async def take(self, request_uri: str) -> PushedAuthorizationRequest | None:
        """Atomically remove and return the unexpired request: of parallel callers at most one gets it."""
        ...


def reference_of(request_uri: str) -> str | None:
    """The handle inside a pushed request's ``request_uri``; ``None`` when it is not one."""
    if not request_uri.startswith(REQUEST_URI_PREFIX):
        return None
    handle = request_uri[len(REQUEST_URI_PREFIX) :]
    return handle if 0 < len(handle) <= 200 else None


class DefaultPushedAuthorizationService:
    """Pushed requests as persisted grants (memory, SQLite, PostgreSQL: whatever ``PersistedGrantStore`` is)."""

    def __init__(
        self,
        store: PersistedGrantStore,
        handles: HandleGenerationService,
        protector: DataProtector | None,
        clock: Clock,
    ) -> None:
        self.clock = clock
        self.grants: DefaultGrantStore[PushedAuthorizationRequest] = DefaultGrantStore(
            PersistedGrantTypes.PUSHED_AUTHORIZATION_REQUEST,
            store,
            handles,
            protector,
            clock,
            request_to_dict,
            request_from_dict,
        )

    async def store(self, request: PushedAuthorizationRequest, lifetime: int) -> str:
        handle = await self.grants.store_item(
            request,
            request.client_id,
            None,
            None,
            None,
            int(self.clock.timestamp()),
            lifetime,
        )
        return REQUEST_URI_PREFIX + handle

    async def get(self, request_uri: str) -> PushedAuthorizationRequest | None:
        handle = reference_of(request_uri)
        if handle is None:
            return None
        found = await self.grants.get_item(handle)
        return found[0] if found is not None else None

    async def take(self, request_uri: str) -> PushedAuthorizationRequest | None:
        handle = reference_of(request_uri)
        if handle is None:
            return None
        taken = await self.grants.take_item(handle)
        if taken is None:
            return None
        request, grant = taken
        if grant.expiration is not None and grant.expiration < self.clock.utc_now():
            return None
        return request
