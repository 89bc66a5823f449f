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
