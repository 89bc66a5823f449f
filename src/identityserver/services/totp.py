"""TOTP second factors (RFC 6238 over HOTP, RFC 4226): 30-second steps, 6 digits, HMAC-SHA-1 (what authenticator
apps implement), a window of one step either side (RFC 6238 §5.2), every step accepted once, wrong codes
throttled, the secret sealed by data protection, and ten one-time recovery codes stored as hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

from identityserver.clock import Clock
from identityserver.crypto.protection import DataProtectionError, DataProtector
from identityserver.models.sign_in_methods import TotpEnrolment
from identityserver.services.protocols import LoginThrottle
from identityserver.services.sign_in_protocols import TotpCheck
from identityserver.stores.protocols import TotpStore

STEP = 30
DIGITS = 6
WINDOW = 1
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def hotp(secret: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226 §5.3: HMAC-SHA-1 of the counter, dynamic truncation, modulo 10^digits."""
    digest = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp(secret: bytes, timestamp: float) -> str:
    """RFC 6238 §4.2: HOTP of the number of 30-second steps since the Unix epoch."""
    return hotp(secret, int(timestamp) // STEP)


def base32_secret(secret: bytes) -> str:
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def secret_from_base32(text: str) -> bytes:
    clean = text.replace(" ", "").upper()
    return base64.b32decode(clean + "=" * (-len(clean) % 8))


def recovery_hash(code: str) -> str:
    """Recovery codes carry 50 random bits, so a plain SHA-256 suffices (no password to stretch)."""
    normal = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(b"identityserver.recovery:" + normal.encode("utf-8", "surrogatepass")).hexdigest()


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


class DefaultTotpService:
    """The default ``TotpService``. Wrong codes count in the ``LoginThrottle`` under ``totp:<subject>``, so that a
    stolen password does not buy unlimited guesses at six digits."""

    def __init__(self, store: TotpStore, protector: DataProtector, throttle: LoginThrottle, clock: Clock) -> None:
        self.store = store
        self.protector = protector
        self.throttle = throttle
        self.clock = clock

    async def enrolment(self, subject_id: str) -> TotpEnrolment | None:
        return await self.store.get(subject_id)

    async def begin_enrolment(self, subject_id: str) -> str:
        existing = await self.store.get(subject_id)
        if existing is not None and existing.enabled:
            raise ValueError("a second factor is already on; turn it off first")
        secret = secrets.token_bytes(20)  # RFC 4226 §4 R6: 160 bits recommended
        await self.store.save(TotpEnrolment(subject_id, await self.protector.protect(secret), self.clock.utc_now()))
        return base32_secret(secret)

    async def _secret(self, enrolment: TotpEnrolment) -> bytes | None:
        try:
            return await self.protector.unprotect(enrolment.secret)
        except DataProtectionError:
            return None

    async def pending_secret(self, subject_id: str) -> str | None:
        enrolment = await self.store.get(subject_id)
        if enrolment is None or enrolment.enabled:
            return None
        secret = await self._secret(enrolment)
        return base32_secret(secret) if secret is not None else None

    def provisioning_uri(self, secret: str, account: str, issuer: str) -> str:
        label = quote(f"{issuer}:{account}", safe="")
        query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": STEP})
        return f"otpauth://totp/{label}?{query}"

    def _matching_step(self, secret: bytes, code: str) -> int | None:
        if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
            return None
        now = int(self.clock.timestamp()) // STEP
        for step in range(now - WINDOW, now + WINDOW + 1):
            if hmac.compare_digest(hotp(secret, step), code):
                return step
        return None

    async def confirm_enrolment(self, subject_id: str, code: str, address: str) -> list[str] | None:
        key = f"totp:{subject_id}"
        enrolment = await self.store.get(subject_id)
        if enrolment is None or await self.throttle.blocked(key, address):
            return None
        pending = await self._secret(enrolment) if not enrolment.enabled else None
        step = self._matching_step(pending, code.strip()) if pending is not None else None
        if pending is None or step is None:
            await self.throttle.failed(key, address)
            return None
        await self.throttle.succeeded(key, address)
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        enrolment.enabled, enrolment.last_used_step = True, step
        enrolment.recovery_codes = [recovery_hash(c) for c in codes]
        await self.store.save(enrolment)
        return codes

    async def verify(self, subject_id: str, code: str, address: str) -> TotpCheck:
        key = f"totp:{subject_id}"
        if await self.throttle.blocked(key, address):
            return TotpCheck(False, throttled=True)
        enrolment = await self.store.get(subject_id)
        active = await self._secret(enrolment) if enrolment is not None and enrolment.enabled else None
        code = code.strip()[:40]
        step = None
        if active is not None:
            step = self._matching_step(active, code)
            if step is not None and await self.store.use_step(subject_id, step):
                await self.throttle.succeeded(key, address)
                return TotpCheck(True)
            if (
                step is None
                and len(code) > DIGITS
                and await self.store.use_recovery_code(subject_id, recovery_hash(code))
            ):
                await self.throttle.succeeded(key, address)
                return TotpCheck(True, recovery=True)
        # a right code of a used step is refused and counted against the throttle like a wrong one
        await self.throttle.failed(key, address)
        return TotpCheck(False, reused=step is not None)

    async def disable(self, subject_id: str) -> None:
        await self.store.remove(subject_id)
