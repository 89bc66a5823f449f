"""``PersistedGrantStore`` contract (Duende ``PersistedGrantStoreTests``), plus atomic take/consume/replace
under concurrency and edge values."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import pytest_asyncio

from identityserver.models.grants import PersistedGrant, PersistedGrantFilter
from identityserver.stores.protocols import PersistedGrantStore
from identityserver.testing.factory import StoreFactory

NOW = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


def grant(key: str = "k1", **kwargs: Any) -> PersistedGrant:
    values: dict[str, Any] = dict(
        key=key,
        type="authorization_code",
        client_id="client1",
        creation_time=NOW,
        data='{"x":1}',
        subject_id="sub1",
        session_id="sid1",
        description="d",
        expiration=NOW + timedelta(minutes=5),
    )
    values.update(kwargs)
    return PersistedGrant(**values)


class PersistedGrantStoreContract:
    """Needs ``store_factory.persisted_grant_store``."""

    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def store(self, store_factory: StoreFactory) -> PersistedGrantStore:
        return await store_factory.persisted_grant_store()

    async def test_store_when_persisted_grant_stored_expect_success(self, store: PersistedGrantStore) -> None:
        await store.store(grant())
        assert await store.get("k1") == grant()

    async def test_get_with_key_and_persisted_grant_exists_expect_persisted_grant_returned(
        self, store: PersistedGrantStore
    ) -> None:
        await store.store(grant("a"))
        await store.store(grant("b", subject_id="other"))
        found = await store.get("b")
        assert found is not None and found.subject_id == "other"
        assert await store.get("missing") is None

    async def test_get_all_with_sub_and_type_expect_persisted_grant_returned(self, store: PersistedGrantStore) -> None:
        await store.store(grant("a"))
        await store.store(grant("b", type="refresh_token"))
        found = await store.get_all(PersistedGrantFilter(subject_id="sub1", type="refresh_token"))
        assert [g.key for g in found] == ["b"]

    @pytest.mark.parametrize(
        ("grant_filter", "expected"),
        [
            (PersistedGrantFilter(subject_id="sub1"), {"a", "b", "c", "d"}),
            (PersistedGrantFilter(subject_id="sub1", client_id="c2"), {"c"}),
            (PersistedGrantFilter(subject_id="sub1", client_ids=["c1", "c2"]), {"a", "b", "c"}),
            (PersistedGrantFilter(session_id="s2"), {"b"}),
            (PersistedGrantFilter(subject_id="sub1", types=["t2", "t3"]), {"c", "d"}),
            (PersistedGrantFilter(client_id="c1", type="t1"), {"a", "b", "e"}),
            (PersistedGrantFilter(subject_id="nobody"), set()),
        ],
    )
    async def test_get_all_should_filter(
        self, store: PersistedGrantStore, grant_filter: PersistedGrantFilter, expected: set[str]
    ) -> None:
        await store.store(grant("a", client_id="c1", session_id="s1", type="t1"))
        await store.store(grant("b", client_id="c1", session_id="s2", type="t1"))
        await store.store(grant("c", client_id="c2", session_id="s1", type="t2"))
        await store.store(grant("d", client_id="c3", session_id="s1", type="t3"))
        await store.store(grant("e", subject_id="sub2", client_id="c1", type="t1"))
        assert {g.key for g in await store.get_all(grant_filter)} == expected

    async def test_get_all_and_remove_all_need_a_criterion(self, store: PersistedGrantStore) -> None:
        with pytest.raises(ValueError):
            await store.get_all(PersistedGrantFilter())
        with pytest.raises(ValueError):
            await store.remove_all(PersistedGrantFilter())

    async def test_remove_when_key_of_existing_received_expect_grant_deleted(self, store: PersistedGrantStore) -> None:
        await store.store(grant("a"))
        await store.remove("a")
        await store.remove("never-existed")
        assert await store.get("a") is None

    async def test_remove_all_when_sub_id_and_client_id_of_existing_received_expect_grant_deleted(
        self, store: PersistedGrantStore
    ) -> None:
        await store.store(grant("a"))
        await store.store(grant("b", client_id="other"))
        await store.remove_all(PersistedGrantFilter(subject_id="sub1", client_id="client1"))
        assert await store.get("a") is None
        assert await store.get("b") is not None

    async def test_remove_all_when_sub_id_client_id_and_type_of_existing_received_expect_grant_deleted(
        self, store: PersistedGrantStore
    ) -> None:
        await store.store(grant("a"))
        await store.store(grant("b", type="refresh_token"))
        await store.remove_all(PersistedGrantFilter(subject_id="sub1", client_id="client1", type="refresh_token"))
        assert await store.get("a") is not None
        assert await store.get("b") is None

    async def test_store_should_create_new_record_if_key_does_not_exist(self, store: PersistedGrantStore) -> None:
        assert await store.get("new") is None
        await store.store(grant("new"))
        assert await store.get("new") is not None

    async def test_store_should_update_record_if_key_already_exists(self, store: PersistedGrantStore) -> None:
        await store.store(grant("a", expiration=NOW))
        updated = grant("a", expiration=NOW + timedelta(days=1), data="new", consumed_time=NOW)
        await store.store(updated)
        assert await store.get("a") == updated
        assert len(await store.get_all(PersistedGrantFilter(subject_id="sub1"))) == 1

    async def test_take_returns_the_grant_once_and_removes_it(self, store: PersistedGrantStore) -> None:
        await store.store(grant("a"))
        assert await store.take("a") == grant("a")
        assert await store.take("a") is None
        assert await store.get("a") is None

    async def test_of_many_concurrent_takes_exactly_one_wins(self, store: PersistedGrantStore) -> None:
        await store.store(grant("race"))
        results = await asyncio.gather(*(store.take("race") for _ in range(20)))
        assert sum(r is not None for r in results) == 1

    async def test_consume_marks_once_and_keeps_the_grant(self, store: PersistedGrantStore) -> None:
        await store.store(grant("a"))
        consumed = await store.consume("a", NOW + timedelta(seconds=1))
        assert consumed is not None and consumed.consumed_time == NOW + timedelta(seconds=1)
        assert await store.consume("a", NOW + timedelta(seconds=2)) is None
        kept = await store.get("a")
        assert kept is not None and kept.consumed_time == NOW + timedelta(seconds=1)
        assert await store.consume("missing", NOW) is None

    async def test_of_many_concurrent_consumes_exactly_one_wins(self, store: PersistedGrantStore) -> None:
        await store.store(grant("race"))
        results = await asyncio.gather(*(store.consume("race", NOW) for _ in range(20)))
        assert sum(r is not None for r in results) == 1

    async def test_replace_removes_the_grant_and_stores_the_new_one_once(self, store: PersistedGrantStore) -> None:
        await store.store(grant("a"))
        tombstone = grant("b", type="refresh_token_used", data='{"FamilyId":"f"}', description=None)
        assert await store.replace("a", tombstone) is True
        assert await store.get("a") is None
        assert await store.get("b") == tombstone
        assert await store.replace("a", grant("c")) is False  # gone: nothing changes
        assert await store.get("c") is None
        assert await store.replace("missing", grant("d")) is False
        assert await store.get("d") is None

    async def test_replace_overwrites_a_grant_under_the_new_key(self, store: PersistedGrantStore) -> None:
        await store.store(grant("a"))
        await store.store(grant("b", data="old"))
        assert await store.replace("a", grant("b", data="new")) is True
        assert await store.get("a") is None
        assert await store.get("b") == grant("b", data="new")
        assert len(await store.get_all(PersistedGrantFilter(subject_id="sub1"))) == 1

    async def test_of_many_concurrent_replaces_exactly_one_wins(self, store: PersistedGrantStore) -> None:
        await store.store(grant("race"))
        await store.store(grant("other"))
        replaces = [store.replace("race", grant("used", data=str(i))) for i in range(20)]
        results = await asyncio.gather(*replaces, store.replace("other", grant("other used")))
        assert sum(results[:20]) == 1 and results[20] is True
        winner = results.index(True)
        assert await store.get("used") == grant("used", data=str(winner))
        assert await store.get("other used") == grant("other used")
        assert await store.get("race") is None and await store.get("other") is None

    async def test_replace_stores_a_successor_with_the_new_grant_or_neither(self, store: PersistedGrantStore) -> None:
        await store.store(grant("a"))
        await store.store(grant("s", data="old"))
        tombstone, successor = grant("b", type="refresh_token_used"), grant("s", type="refresh_token", data="new")
        assert await store.replace("a", tombstone, successor) is True
        assert await store.get("a") is None
        assert await store.get("b") == tombstone
        assert await store.get("s") == successor  # overwritten, as by store
        assert await store.replace("a", grant("c"), grant("t")) is False  # gone: nothing changes
        assert await store.get("c") is None and await store.get("t") is None
        assert await store.replace("missing", grant("d"), grant("u")) is False
        assert await store.get("d") is None and await store.get("u") is None

    async def test_of_many_concurrent_replaces_with_successors_one_stores_its_own(
        self, store: PersistedGrantStore
    ) -> None:
        await store.store(grant("race"))
        replaces = [store.replace("race", grant("used", data=str(i)), grant(f"next-{i}")) for i in range(20)]
        results = await asyncio.gather(*replaces)
        assert sum(results) == 1
        winner = results.index(True)
        assert await store.get("used") == grant("used", data=str(winner))
        assert [await store.get(f"next-{i}") for i in range(20)] == [
            grant(f"next-{i}") if i == winner else None for i in range(20)
        ]
        assert await store.get("race") is None

    async def test_edge_values_round_trip(self, store: PersistedGrantStore) -> None:
        edge = grant(
            "K" * 200,
            type="t" * 50,
            client_id="ç" * 200,
            subject_id="👩‍💻 sub",
            session_id=None,
            description=None,
            expiration=None,
            creation_time=datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            data="ünïcødé " * 5000,
        )
        await store.store(edge)
        assert await store.get(edge.key) == edge

    async def test_naive_and_offset_datetimes_are_stored_as_the_same_instant(self, store: PersistedGrantStore) -> None:
        aware = datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
        await store.store(grant("a", creation_time=aware))
        found = await store.get("a")
        assert found is not None and found.creation_time == aware
