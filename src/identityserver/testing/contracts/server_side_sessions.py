"""``ServerSideSessionStore`` contract: create/read/update/delete, selection by filter, expiry that hands each
expired session to one caller only, and paged queries by case-insensitive prefix."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from identityserver.models.sessions import ServerSideSession, SessionFilter, SessionQuery
from identityserver.stores.protocols import ServerSideSessionStore
from identityserver.testing.factory import StoreFactory

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def session(key: str, **kwargs: Any) -> ServerSideSession:
    values: dict[str, Any] = dict(
        key=key,
        scheme="idsrv",
        subject_id="alice",
        created=NOW,
        renewed=NOW,
        ticket="ticket-" + key,
        session_id="sid-" + key,
        display_name="Alice",
        expires=NOW + timedelta(hours=1),
    )
    values.update(kwargs)
    return ServerSideSession(**values)


class ServerSideSessionStoreContract:
    """Needs ``store_factory.server_side_session_store``."""

    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def store(self, store_factory: StoreFactory) -> ServerSideSessionStore:
        return await store_factory.server_side_session_store()

    async def test_created_session_is_found_by_key(self, store: ServerSideSessionStore) -> None:
        await store.create_session(session("k1"))
        assert await store.get_session("k1") == session("k1")
        assert await store.get_session("missing") is None

    async def test_creating_a_session_twice_fails(self, store: ServerSideSessionStore) -> None:
        await store.create_session(session("k1"))
        with pytest.raises(ValueError):
            await store.create_session(session("k1"))

    async def test_update_replaces_the_session_and_delete_removes_it(self, store: ServerSideSessionStore) -> None:
        await store.create_session(session("k1"))
        renewed = session("k1", renewed=NOW + timedelta(minutes=5), ticket="new", expires=None)
        await store.update_session(renewed)
        assert await store.get_session("k1") == renewed
        await store.delete_session("k1")
        assert await store.get_session("k1") is None

    async def test_sessions_are_selected_and_deleted_by_filter(self, store: ServerSideSessionStore) -> None:
        await store.create_session(session("k1"))
        await store.create_session(session("k2", subject_id="bob"))
        await store.create_session(session("k3", session_id="shared"))
        assert {s.key for s in await store.get_sessions(SessionFilter(subject_id="alice"))} == {"k1", "k3"}
        assert [s.key for s in await store.get_sessions(SessionFilter(session_id="shared"))] == ["k3"]
        with pytest.raises(ValueError):
            await store.get_sessions(SessionFilter())
        await store.delete_sessions(SessionFilter(subject_id="alice"))
        assert [s.key for s in await store.get_sessions(SessionFilter(subject_id="bob"))] == ["k2"]
        assert await store.get_session("k1") is None

    async def test_expired_sessions_are_removed_and_returned_once(self, store: ServerSideSessionStore) -> None:
        for i in range(5):
            await store.create_session(session(f"old{i}", expires=NOW - timedelta(minutes=10 - i)))
        await store.create_session(session("live"))
        await store.create_session(session("forever", expires=None))
        first, second = await asyncio.gather(
            store.get_and_remove_expired_sessions(NOW, 3), store.get_and_remove_expired_sessions(NOW, 3)
        )
        keys = [s.key for s in first] + [s.key for s in second]
        assert sorted(keys) == [f"old{i}" for i in range(5)]
        assert await store.get_and_remove_expired_sessions(NOW, 10) == []
        assert await store.get_session("live") is not None and await store.get_session("forever") is not None

    async def test_query_pages_and_filters_by_case_insensitive_prefix(self, store: ServerSideSessionStore) -> None:
        for i in range(7):
            await store.create_session(session(f"k{i}", created=NOW + timedelta(seconds=i), display_name=f"User {i}"))
        await store.create_session(session("x", subject_id="bob", display_name="B_ob%"))
        page = await store.query_sessions(SessionQuery(request_page_size=3, count_requested=True, subject_id="ALI"))
        assert [s.key for s in page.results] == ["k0", "k1", "k2"]
        assert (page.total_count, page.total_pages, page.current_page, page.has_next_results) == (7, 3, 1, True)
        last = await store.query_sessions(SessionQuery(results_token="6", request_page_size=3, subject_id="ali"))
        assert [s.key for s in last.results] == ["k6"] and last.has_prev_results and not last.has_next_results
        assert [s.key for s in (await store.query_sessions(SessionQuery(display_name="b_ob%"))).results] == ["x"]
        assert [s.key for s in (await store.query_sessions(SessionQuery(display_name="b_"))).results] == ["x"]
        assert (await store.query_sessions(SessionQuery(display_name="_"))).results == []
