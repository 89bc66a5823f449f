"""The second-factor and passkey services the UI calls into (docs/sign-in.md); each is a slot of
``configuration/wiring/sign_in.py``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from identityserver.models.client import Client
from identityserver.models.sign_in_methods import PasskeyCredential, TotpEnrolment

MFA_AMR = "mfa"
"""RFC 8176 §2: multiple-factor authentication; every session with a second factor or a passkey carries it."""


def second_factor_required(client: Client, acr_values: Sequence[str], mfa_acr_value: str) -> bool:
    """Whether the request needs a second factor: the client's ``require_mfa``, or ``acr_values`` naming the
    configured MFA value (OIDC Core §3.1.2.1)."""
    return client.require_mfa or mfa_acr_value in acr_values


def passkey_amr(credential: PasskeyCredential) -> list[str]:
    """RFC 8176 §2 values of a passkey sign-in with user verification: a key held in hardware (``hwk``) unless the
    credential may be synced (``swk``), a user test (``user``), and together a multiple-factor sign-in."""
    return ["swk" if credential.backup_eligible else "hwk", "user", MFA_AMR]


@dataclass(frozen=True, slots=True)
class TotpCheck:
    """The outcome of one second-factor code: ``ok``; ``throttled`` when too many wrong codes came from the address;
    ``recovery`` when a recovery code (not a TOTP code) was used; ``reused`` when a TOTP code was right but its time
    step was already used (refused: a replay, or the second submission of a form whose first used it)."""

    ok: bool
    throttled: bool = False
    recovery: bool = False
    reused: bool = False


class TotpService(Protocol):
    """TOTP second factors (RFC 6238) with one-time recovery codes."""

    async def enrolment(self, subject_id: str) -> TotpEnrolment | None:
        """The user's enrolment, or ``None``."""

    async def begin_enrolment(self, subject_id: str) -> str:
        """A new secret (base32, RFC 4648 §6) stored as pending; ``ValueError`` when a factor is already on."""
        ...

    async def pending_secret(self, subject_id: str) -> str | None:
        """The base32 secret of a pending enrolment (to show its QR code again), else ``None``."""
        ...

    def provisioning_uri(self, secret: str, account: str, issuer: str) -> str:
        """The ``otpauth://totp/`` URI authenticator apps scan."""
        ...

    async def confirm_enrolment(self, subject_id: str, code: str, address: str) -> list[str] | None:
        """Turn the pending enrolment on when ``code`` is right; the ten recovery codes (shown once), else ``None``."""
        ...

    async def verify(self, subject_id: str, code: str, address: str) -> TotpCheck:
        """Check a TOTP code (each time step used once) or a recovery code (each used once), throttled."""
        ...

    async def disable(self, subject_id: str) -> None:
        """Turn the user's second factor off (the secret and recovery codes go)."""


class PasskeyError(ValueError):
    """A WebAuthn response this server refuses (malformed, wrong origin or RP id, replayed challenge, unknown or
    cloned credential); the message is safe to show."""


@dataclass(frozen=True, slots=True)
class PasskeyCeremony:
    """The ``PublicKeyCredential*Options`` JSON for ``navigator.credentials`` and the sealed state the browser
    sends back with the response (it names the challenge, the user and the expiry)."""

    options_json: str
    state: str


class PasskeyService(Protocol):
    """WebAuthn registration and authentication ceremonies (WebAuthn L2 §7.1, §7.2)."""

    async def registration_options(
        self, subject_id: str, username: str, display_name: str, rp_id: str, rp_name: str
    ) -> PasskeyCeremony:
        """Start a registration ceremony for the user (WebAuthn L2 §7.1)."""

    async def register(
        self, subject_id: str, state: str, response_json: str, origin: str, rp_id: str, name: str
    ) -> PasskeyCredential:
        """Verify and store a new credential; ``PasskeyError`` when refused."""
        ...

    async def authentication_options(self, rp_id: str) -> PasskeyCeremony:
        """Start an authentication ceremony (WebAuthn L2 §7.2)."""

    async def authenticate(self, state: str, response_json: str, origin: str, rp_id: str) -> PasskeyCredential:
        """Verify an assertion of a registered credential and record its counter; ``PasskeyError`` when refused."""
        ...

    async def credentials(self, subject_id: str) -> list[PasskeyCredential]:
        """The user's credentials, oldest first."""

    async def rename(self, subject_id: str, credential_id: str, name: str) -> bool:
        """Rename one of the user's credentials; ``False`` when the user has no such credential."""

    async def remove(self, subject_id: str, credential_id: str) -> bool:
        """Remove one of the user's credentials; ``False`` when the user has no such credential."""
