"""In-memory ``TokenCleanupService`` (the behaviour of Duende ``TokenCleanupService`` over the in-memory
persisted-grant and device-flow stores)."""

from __future__ import annotations

from datetime import timedelta

from identityserver.clock import Clock
from identityserver.options import OperationalStoreOptions
from identityserver.stores.in_memory.device_flow import InMemoryDeviceFlowStore
from identityserver.stores.in_memory.persisted_grants import InMemoryPersistedGrantStore
from identityserver.telemetry import CLEANUP_REMOVED


class InMemoryTokenCleanupService:
    def __init__(
        self,
        grants: InMemoryPersistedGrantStore,
        device_flow: InMemoryDeviceFlowStore | None,
        options: OperationalStoreOptions,
        clock: Clock,
    ) -> None:
        self.grants = grants
        self.device_flow = device_flow
        self.options = options
        self.clock = clock

    async def cleanup_grants(self) -> None:
        now = self.clock.utc_now()
        cutoff = now - timedelta(seconds=self.options.consumed_token_cleanup_delay)
        removed = {"expired_grants": 0, "consumed_grants": 0, "device_codes": 0}
        for grant in self.grants.all():
            expired = grant.expiration is not None and grant.expiration < now
            consumed = (
                self.options.remove_consumed_tokens and grant.consumed_time is not None and grant.consumed_time < cutoff
            )
            if expired or consumed:
                await self.grants.remove(grant.key)
                removed["expired_grants" if expired else "consumed_grants"] += 1
        if self.device_flow is not None:
            for device_code, code in self.device_flow.all():
                if code.creation_time + code.lifetime < now.timestamp():
                    await self.device_flow.remove_by_device_code(device_code)
                    removed["device_codes"] += 1
        for kind, count in removed.items():
            if count:
                CLEANUP_REMOVED.add(count, {"kind": kind})
