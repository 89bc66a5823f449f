"""Default sign-in methods beyond the password (docs/sign-in.md): passkeys and TOTP second factors, with their
stores (in memory; ``add_sql_stores`` registers the SQL ones)."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.configuration.wiring.composition import Composition, default
from identityserver.services.passkeys import DefaultPasskeyService
from identityserver.services.protocols import DataProtectionKeyRing, LoginThrottle
from identityserver.services.sign_in_protocols import PasskeyService, TotpService
from identityserver.services.totp import DefaultTotpService
from identityserver.stores.in_memory.sign_in_methods import InMemoryPasskeyStore, InMemoryTotpStore
from identityserver.stores.protocols import PasskeyStore, ReplayCache, TotpStore

TOTP_SECRET_PURPOSE = "identityserver.totp.secret"
PASSKEY_CEREMONY_PURPOSE = "identityserver.passkeys.ceremony"


@default(PasskeyStore)
def passkey_store(c: Composition) -> PasskeyStore:
    return InMemoryPasskeyStore()


@default(TotpStore)
def totp_store(c: Composition) -> TotpStore:
    return InMemoryTotpStore()


@default(PasskeyService)
def passkeys(c: Composition) -> PasskeyService:
    return c.cls(PasskeyService, DefaultPasskeyService)(
        c.get(PasskeyStore),
        c.get(DataProtectionKeyRing).create_protector(PASSKEY_CEREMONY_PURPOSE),
        c.get(ReplayCache),
        c.get(Clock),
    )


@default(TotpService)
def totp(c: Composition) -> TotpService:
    return c.cls(TotpService, DefaultTotpService)(
        c.get(TotpStore),
        c.get(DataProtectionKeyRing).create_protector(TOTP_SECRET_PURPOSE),
        c.get(LoginThrottle),
        c.get(Clock),
    )
