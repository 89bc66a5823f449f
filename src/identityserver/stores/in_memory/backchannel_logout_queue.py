"""In-memory ``BackChannelLogoutQueue``: pending back-channel logout deliveries of one process (lost with it;
the SQL queue survives restarts and is shared by every process)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from identityserver.models.logout import BackChannelLogoutDelivery


class InMemoryBackChannelLogoutQueue:
    """Every method runs without awaiting, so each is atomic on the event loop."""

    def __init__(self) -> None:
        self._deliveries: dict[str, BackChannelLogoutDelivery] = {}

    async def enqueue(self, deliveries: Sequence[BackChannelLogoutDelivery]) -> None:
        duplicates = [d.id for d in deliveries if d.id in self._deliveries]
        if duplicates or len({d.id for d in deliveries}) != len(deliveries):
            raise ValueError(f"back-channel logout deliveries already queued: {duplicates}")
        for delivery in deliveries:
            self._deliveries[delivery.id] = delivery

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[BackChannelLogoutDelivery]:
        due = sorted(
            (d for d in self._deliveries.values() if d.next_attempt_at <= now),
            key=lambda d: (d.next_attempt_at, d.id),
        )[: max(limit, 0)]
        claimed = [dataclasses.replace(d, next_attempt_at=lease_until) for d in due]
        for delivery in claimed:
            self._deliveries[delivery.id] = delivery
        return claimed

    async def complete(self, delivery_id: str) -> None:
        self._deliveries.pop(delivery_id, None)

    async def retry(self, delivery_id: str, next_attempt_at: datetime, attempts: int, last_error: str) -> None:
        delivery = self._deliveries.get(delivery_id)
        if delivery is not None:
            self._deliveries[delivery_id] = dataclasses.replace(
                delivery, next_attempt_at=next_attempt_at, attempts=attempts, last_error=last_error
            )
