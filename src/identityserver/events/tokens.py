"""Token events: issued, revoked, introspected (Duende ``TokenIssuedSuccessEvent`` ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from identityserver.events.base import Event, EventCategories, EventTypes, obfuscate


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """One token of a response: its type and its obfuscated value (never the token itself)."""

    token_type: str
    token_value: str


def issued_tokens(
    *,
    id_token: str | None = None,
    code: str | None = None,
    refresh_token: str | None = None,
    access_token: str | None = None,
) -> tuple[IssuedToken, ...]:
    """The tokens a response carries, obfuscated; absent ones are left out."""
    given = (("id_token", id_token), ("code", code), ("refresh_token", refresh_token), ("access_token", access_token))
    return tuple(IssuedToken(kind, obfuscate(value)) for kind, value in given if value)


@dataclass(slots=True, kw_only=True)
class TokenIssuedSuccessEvent(Event):
    id: ClassVar[int] = 2000
    category: ClassVar[str] = EventCategories.TOKEN
    event_type: ClassVar[EventTypes] = EventTypes.SUCCESS
    name: ClassVar[str] = "Token Issued Success"

    client_id: str | None = None
    client_name: str | None = None
    redirect_uri: str | None = None
    endpoint: str | None = None
    """``"Authorize"`` or ``"Token"``."""
    subject_id: str | None = None
    scopes: str | None = None
    """Space-separated, as in the ``scope`` parameter."""
    grant_type: str | None = None
    tokens: tuple[IssuedToken, ...] = ()


@dataclass(slots=True, kw_only=True)
class TokenIssuedFailureEvent(Event):
    """``message`` carries the error description."""

    id: ClassVar[int] = 2001
    category: ClassVar[str] = EventCategories.TOKEN
    event_type: ClassVar[EventTypes] = EventTypes.FAILURE
    name: ClassVar[str] = "Token Issued Failure"

    client_id: str | None = None
    client_name: str | None = None
    redirect_uri: str | None = None
    endpoint: str | None = None
    subject_id: str | None = None
    scopes: str | None = None
    grant_type: str | None = None
    error: str | None = None


@dataclass(slots=True, kw_only=True)
class TokenRevokedSuccessEvent(Event):
    id: ClassVar[int] = 2010
    category: ClassVar[str] = EventCategories.TOKEN
    event_type: ClassVar[EventTypes] = EventTypes.SUCCESS
    name: ClassVar[str] = "Token Revoked Success"

    client_id: str
    client_name: str | None = None
    token_type: str | None = None
    """``"access_token"`` or ``"refresh_token"``."""


@dataclass(slots=True, kw_only=True)
class TokenIntrospectionSuccessEvent(Event):
    id: ClassVar[int] = 2020
    category: ClassVar[str] = EventCategories.TOKEN
    event_type: ClassVar[EventTypes] = EventTypes.SUCCESS
    name: ClassVar[str] = "Token Introspection Success"

    caller: str
    """The API resource name or the client id that introspected."""
    is_active: bool = True


@dataclass(slots=True, kw_only=True)
class TokenIntrospectionFailureEvent(Event):
    """The token was not active for the caller."""

    id: ClassVar[int] = 2021
    category: ClassVar[str] = EventCategories.TOKEN
    event_type: ClassVar[EventTypes] = EventTypes.FAILURE
    name: ClassVar[str] = "Token Introspection Failure"

    caller: str
    is_active: bool = False
