"""Device codes and polling (RFC 8628 §3.4-§3.5; Duende ``DefaultDeviceFlowCodeService`` and
``DistributedDeviceFlowThrottlingService``).

Device codes are stored as SHA-256 hashes (RFC 8628 §5.2 treats them as credentials); user codes in their
normalized form. The polling throttle keeps the time of a device code's last poll and its current interval as a
persisted grant of type ``device_poll``, so that every server process sharing the store sees them."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta

from identityserver.clock import Clock
from identityserver.models.grants import DeviceCode, PersistedGrant
from identityserver.services.user_codes import normalize_user_code
from identityserver.stores.protocols import DeviceFlowStore, PersistedGrantStore

DEVICE_POLL = "device_poll"
#: RFC 8628 §3.5: after ``slow_down`` the interval grows by 5 seconds for this and all later requests.
SLOW_DOWN_INCREMENT = 5


def hash_device_code(device_code: str) -> str:
    return hashlib.sha256(device_code.encode("utf-8", "surrogatepass")).hexdigest()


def device_code_expiration(data: DeviceCode) -> datetime:
    return datetime.fromtimestamp(data.creation_time + data.lifetime, UTC)


class DefaultDeviceFlowCodeService:
    """Creates device codes (32 random bytes, RFC 8628 §5.2) and reaches the store with hashed device codes and
    normalized user codes."""

    def __init__(self, store: DeviceFlowStore) -> None:
        self.store = store

    async def store_device_authorization(self, user_code: str, data: DeviceCode) -> str:
        """Store the authorization under ``user_code``; return the new device code (``ValueError`` when the
        user code is taken)."""
        device_code = secrets.token_hex(32).upper()
        await self.store.store_device_authorization(hash_device_code(device_code), normalize_user_code(user_code), data)
        return device_code

    async def find_by_user_code(self, user_code: str) -> DeviceCode | None:
        return await self.store.find_by_user_code(normalize_user_code(user_code))

    async def find_by_device_code(self, device_code: str) -> DeviceCode | None:
        return await self.store.find_by_device_code(hash_device_code(device_code))

    async def update_by_user_code(self, user_code: str, data: DeviceCode) -> None:
        await self.store.update_by_user_code(normalize_user_code(user_code), data)

    async def remove_by_device_code(self, device_code: str) -> None:
        await self.store.remove_by_device_code(hash_device_code(device_code))

    async def take_by_device_code(self, device_code: str) -> DeviceCode | None:
        """Remove and return the authorization; of concurrent callers exactly one gets it."""
        return await self.store.take_by_device_code(hash_device_code(device_code))


class DefaultDeviceFlowThrottlingService:
    """``slow_down`` for a device that polls before its interval has passed since its previous poll (RFC 8628
    §3.5); each ``slow_down`` adds 5 seconds to that device code's interval."""

    def __init__(self, grants: PersistedGrantStore, clock: Clock, interval: int) -> None:
        self.grants = grants
        self.clock = clock
        self.interval = interval

    async def should_slow_down(self, device_code: str, details: DeviceCode) -> bool:
        """Record this poll; return whether it came too early."""
        key = f"{DEVICE_POLL}:{hash_device_code(device_code)}"
        now = self.clock.utc_now()
        previous = await self.grants.get(key)
        interval = self.interval
        too_early = False
        if previous is not None and previous.type == DEVICE_POLL:
            interval = int(json.loads(previous.data).get("interval", self.interval))
            too_early = now < previous.creation_time + timedelta(seconds=interval)
        if too_early:
            interval += SLOW_DOWN_INCREMENT
        await self.grants.store(
            PersistedGrant(
                key=key,
                type=DEVICE_POLL,
                client_id=details.client_id,
                creation_time=now,
                expiration=max(device_code_expiration(details), now) + timedelta(seconds=interval),
                data=json.dumps({"interval": interval}),
            )
        )
        return too_early
