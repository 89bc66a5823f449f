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


class TokenRequestRejected(Exception):
    """A request that validated but lost a race while its tokens were being issued (a one-time refresh token
    claimed by a concurrent request): the endpoint answers it like a validation error."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
