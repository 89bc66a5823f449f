"""What a user signs in with besides a password (issue 14): passkeys (WebAuthn public-key credentials) and a TOTP
second factor (RFC 6238) with its recovery codes. Tables of our own (migration 0005)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class PasskeyCredential:
    """A WebAuthn credential registered by a user (WebAuthn L2 §7.1 step 26: id, public key, signature counter,
    transports, and the backup flags of §6.1)."""

    credential_id: str
    """base64url of the credential id (WebAuthn §4 "Credential ID")."""
    subject_id: str
    user_handle: str
    """base64url of the user handle given at registration (WebAuthn §5.4.3 ``user.id``); never the subject id."""
    public_key: str
    """base64url of the COSE public key (WebAuthn §6.5.1.1)."""
    sign_count: int
    name: str
    created: datetime
    transports: list[str] = field(default_factory=list)
    backup_eligible: bool = False
    backed_up: bool = False
    aaguid: str | None = None
    last_used: datetime | None = None


@dataclass(slots=True)
class TotpEnrolment:
    """A user's TOTP authenticator: the shared secret (sealed by data protection), whether it is on (one code was
    verified), the last time step used (RFC 6238 §5.2: a code is accepted once) and the hashes of the unused
    recovery codes."""

    subject_id: str
    secret: str
    created: datetime
    enabled: bool = False
    last_used_step: int | None = None
    recovery_codes: list[str] = field(default_factory=list)
