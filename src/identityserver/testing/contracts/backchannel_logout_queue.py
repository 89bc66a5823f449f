"""``BackChannelLogoutQueue`` contract: deliveries are claimed when due, earliest first, each by one claimer only
(also under concurrent claims), leased until the claimer's lease ends, retried and completed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from identityserver.models.logout import BackChannelLogoutDelivery
from identityserver.stores.protocols import BackChannelLogoutQueue
from identityserver.testing.factory import StoreFactory

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def delivery(delivery_id: str, due: datetime = NOW, **kwargs: Any) -> BackChannelLogoutDelivery:
    values: dict[str, Any] = dict(
        id=delivery_id,
        client_id="client-" + delivery_id,
        subject_id="alice",
        session_id="sid-" + delivery_id,
        issuer="https://idsrv.example",
        created=NOW - timedelta(seconds=1),
        next_attempt_at=due,
    )
    values.update(kwargs)
    return BackChannelLogoutDelivery(**values)


class BackChannelLogoutQueueContract:
    """Needs ``store_factory.backchannel_logout_queue``."""

    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def queue(self, store_factory: StoreFactory) -> BackChannelLogoutQueue:
        return await store_factory.backchannel_logout_queue()

    async def test_a_due_delivery_is_claimed_with_every_field(self, queue: BackChannelLogoutQueue) -> None:
        await queue.enqueue([delivery("d1", attempts=2, last_error="HTTP 503")])
        lease = NOW + timedelta(seconds=21)
        claimed = await queue.claim(NOW, lease, 10)
        assert claimed == [delivery("d1", lease, attempts=2, last_error="HTTP 503")]

    async def test_a_session_less_unicode_delivery_round_trips(self, queue: BackChannelLogoutQueue) -> None:
        odd = delivery("d1", subject_id="ü😀" * 50, session_id=None, issuer="https://idsrv.example/" + "é" * 500)
        await queue.enqueue([odd])
        (claimed,) = await queue.claim(NOW, NOW + timedelta(seconds=5), 1)
        assert claimed.subject_id == odd.subject_id and claimed.session_id is None and claimed.issuer == odd.issuer

    async def test_deliveries_not_yet_due_are_not_claimed(self, queue: BackChannelLogoutQueue) -> None:
        await queue.enqueue([delivery("later", NOW + timedelta(seconds=1))])
        assert await queue.claim(NOW, NOW + timedelta(seconds=5), 10) == []
        assert [d.id for d in await queue.claim(NOW + timedelta(seconds=1), NOW + timedelta(seconds=9), 10)] == [
            "later"
        ]

    async def test_a_claimed_delivery_is_due_again_only_when_its_lease_ends(
        self, queue: BackChannelLogoutQueue
    ) -> None:
        await queue.enqueue([delivery("d1")])
        lease = NOW + timedelta(seconds=20)
        assert len(await queue.claim(NOW, lease, 10)) == 1
        assert await queue.claim(NOW + timedelta(seconds=19), NOW + timedelta(seconds=40), 10) == []
        taken_over = await queue.claim(lease, lease + timedelta(seconds=20), 10)
        assert [d.id for d in taken_over] == ["d1"] and taken_over[0].next_attempt_at == lease + timedelta(seconds=20)

    async def test_claims_take_the_earliest_first_up_to_the_limit(self, queue: BackChannelLogoutQueue) -> None:
        await queue.enqueue([delivery(f"d{i}", NOW - timedelta(seconds=i)) for i in range(5)])
        first = await queue.claim(NOW, NOW + timedelta(seconds=30), 2)
        assert sorted(d.id for d in first) == ["d3", "d4"]
        rest = await queue.claim(NOW, NOW + timedelta(seconds=30), 10)
        assert sorted(d.id for d in rest) == ["d0", "d1", "d2"]
        assert await queue.claim(NOW, NOW + timedelta(seconds=30), 0) == []

    async def test_retry_records_the_attempt_and_makes_it_due_later(self, queue: BackChannelLogoutQueue) -> None:
        await queue.enqueue([delivery("d1")])
        await queue.claim(NOW, NOW + timedelta(seconds=20), 10)
        await queue.retry("d1", NOW + timedelta(seconds=2), 1, "TimeoutError")
        assert await queue.claim(NOW + timedelta(seconds=1), NOW + timedelta(seconds=30), 10) == []
        (again,) = await queue.claim(NOW + timedelta(seconds=2), NOW + timedelta(seconds=30), 10)
        assert (again.attempts, again.last_error) == (1, "TimeoutError")

    async def test_complete_removes_the_delivery(self, queue: BackChannelLogoutQueue) -> None:
        await queue.enqueue([delivery("d1"), delivery("d2")])
        await queue.complete("d1")
        await queue.complete("missing")
        assert [d.id for d in await queue.claim(NOW, NOW + timedelta(seconds=5), 10)] == ["d2"]
        await queue.complete("d2")
        assert await queue.claim(NOW + timedelta(days=1), NOW + timedelta(days=2), 10) == []

    async def test_an_id_is_queued_once(self, queue: BackChannelLogoutQueue) -> None:
        await queue.enqueue([delivery("d1")])
        with pytest.raises(ValueError):
            await queue.enqueue([delivery("d1")])
        assert len(await queue.claim(NOW, NOW + timedelta(seconds=5), 10)) == 1

    async def test_of_concurrent_claims_each_delivery_goes_to_one_claimer(
        self, queue: BackChannelLogoutQueue, store_factory: StoreFactory
    ) -> None:
        await queue.enqueue([delivery(f"d{i:02}") for i in range(30)])
        queues = [queue, *[await store_factory.backchannel_logout_queue() for _ in range(3)]]
        batches = await asyncio.gather(
            *(queues[i % len(queues)].claim(NOW, NOW + timedelta(seconds=20), 4) for i in range(12))
        )
        claimed = [d.id for batch in batches for d in batch]
        assert len(claimed) == len(set(claimed)) == 30
