"""Response models produced by the generators (Duende ``TokenResponse`` & co)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class TokenResponse:
    access_token: str
    access_token_type: str
    access_token_lifetime: int
    scope: str | None = None
    refresh_token: str | None = None
    identity_token: str | None = None
    custom: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class TokenErrorResponse:
    """A validated request the generator still refuses (Duende ``TokenErrorResponse``; RFC 6749 §5.2), e.g. a
    one-time refresh token that a concurrent request rotated first."""

    error: str
    error_description: str | None = None
    custom: dict[str, Any] = field(default_factory=dict)
