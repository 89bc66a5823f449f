"""Our backends through the shipped contract suite (``identityserver.testing``): ``store_factory`` is the
factory of the backend the ``backend`` fixture opened (in memory, SQLite, PostgreSQL when configured)."""

from __future__ import annotations

import pytest

from identityserver.testing.backends import InMemoryStoreFactory, SqlStoreFactory
from identityserver.testing.factory import StoreFactory
from tests.storage.conftest import Backend


def factory_for(backend: Backend) -> StoreFactory:
    return InMemoryStoreFactory() if backend.kind == "in_memory" else SqlStoreFactory(backend.db)


@pytest.fixture
def store_factory(backend: Backend) -> StoreFactory:
    return factory_for(backend)
