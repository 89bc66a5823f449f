"""Token endpoint results (Duende ``TokenResult``, ``TokenErrorResult``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class TokenResult:
    access_token: str
    token_type: str
    expires_in: int
    scope: str | None = None
    refresh_token: str | None = None
    id_token: str | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    dpop_nonce: str | None = None


@dataclass(slots=True)
class TokenErrorResult:
    error: str
    error_description: str | None = None
    status: int = 400
    custom: dict[str, Any] = field(default_factory=dict)
    dpop_nonce: str | None = None
    www_authenticate: str | None = None
