"""Pushed authorization requests on every grant store (memory, SQLite, PostgreSQL when configured): a
``request_uri`` is taken once, even by parallel callers on separate connection pools (separate processes), is bound
to its client, and expires (RFC 9126 §4)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from identityserver.services.handles import DefaultHandleGenerationService
from identityserver.services.pushed_authorization import (
    REQUEST_URI_PREFIX,
    DefaultPushedAuthorizationService,
    PushedAuthorizationRequest,
)
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.testing.backends import InMemoryStoreFactory, SqlStoreFactory
from tests.storage.conftest import Backend
from tests.support.clock import FakeClock


async def service(
    backend: Backend, clock: FakeClock, database: Database | None = None
) -> DefaultPushedAuthorizationService:
    factory = InMemoryStoreFactory() if backend.kind == "in_memory" else SqlStoreFactory(database or backend.db)
    store = await factory.persisted_grant_store()
    return DefaultPushedAuthorizationService(store, DefaultHandleGenerationService(clock), None, clock)


def pushed(client_id: str = "par.web") -> PushedAuthorizationRequest:
    return PushedAuthorizationRequest(
        client_id,
        {"client_id": client_id, "response_type": "code", "state": "s"},
        ["urn:api1"],
        request_object_used=True,
    )


async def test_stored_request_round_trips_and_is_taken_once(backend):
    clock = FakeClock()
    requests = await service(backend, clock)
    request_uri = await requests.store(pushed(), 60)
    assert request_uri.startswith(REQUEST_URI_PREFIX)
    found = await requests.get(request_uri)
    assert found == pushed()
    assert await requests.get(request_uri) == pushed()  # get does not use it up
    assert await requests.take(request_uri) == pushed()
    assert await requests.take(request_uri) is None
    assert await requests.get(request_uri) is None


async def test_expired_request_is_neither_found_nor_taken(backend):
    clock = FakeClock()
    requests = await service(backend, clock)
    request_uri = await requests.store(pushed(), 60)
    clock.advance(timedelta(seconds=61).total_seconds())
    assert await requests.get(request_uri) is None
    assert await requests.take(request_uri) is None


async def test_unknown_and_foreign_references_are_not_found(backend):
    requests = await service(backend, FakeClock())
    await requests.store(pushed(), 60)
    for request_uri in ("", REQUEST_URI_PREFIX, REQUEST_URI_PREFIX + "nope", "https://par.example/r"):
        assert await requests.get(request_uri) is None
        assert await requests.take(request_uri) is None


async def test_parallel_takes_from_separate_pools_give_the_request_once(backend):
    clock = FakeClock()
    first = await service(backend, clock)
    request_uri = await first.store(pushed(), 60)
    others: list[Database] = []
    if backend.kind != "in_memory":
        assert backend.url is not None
        others = [Database(backend.url) for _ in range(3)]
    try:
        takers = [first] + [await service(backend, clock, database) for database in others]
        results = await asyncio.gather(*(takers[i % len(takers)].take(request_uri) for i in range(12)))
    finally:
        for database in others:
            await database.dispose()
    assert [r for r in results if r is not None] == [pushed()]
