"""A pending back-channel logout delivery (OIDC Back-Channel Logout 1.0 §2.5), as the durable queue holds it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class BackChannelLogoutDelivery:
    """What is needed to send one client its logout token: the token itself is signed at each attempt, so the
    queue holds no token and a retry minutes later still carries an unexpired ``exp``.

    ``id`` is also the token's ``jti``: every attempt of one delivery carries the same ``jti``, so a relying
    party that recognises replays (§2.6 step 7) can tell a retry from a new logout."""

    id: str
    client_id: str
    subject_id: str
    session_id: str | None
    issuer: str
    created: datetime
    next_attempt_at: datetime
    """When the delivery is due; while a worker holds it, the end of that worker's lease."""
    attempts: int = 0
    last_error: str | None = None
