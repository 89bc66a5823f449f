"""Store factories: the same store contract built on each backend."""

from __future__ import annotations

from identityserver.storage.sqlalchemy.configuration_import import import_configuration
from identityserver.stores.in_memory import InMemoryClientStore, InMemoryResourceStore
from tests.storage.conftest import Backend
from tests.support.clock import FakeClock


async def client_store(backend: Backend, clients):
    from identityserver.storage.sqlalchemy.stores import SqlClientStore

    if backend.kind == "in_memory":
        return InMemoryClientStore(clients)
    await import_configuration(backend.db, FakeClock(), clients=clients)
    return SqlClientStore(backend.db)


async def resource_store(backend: Backend, identity=(), scopes=(), apis=()):
    from identityserver.storage.sqlalchemy.stores import SqlResourceStore

    if backend.kind == "in_memory":
        return InMemoryResourceStore(identity, scopes, apis)
    await import_configuration(
        backend.db, FakeClock(), identity_resources=identity, api_scopes=scopes, api_resources=apis
    )
    return SqlResourceStore(backend.db)
