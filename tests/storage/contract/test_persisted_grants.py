"""PersistedGrantStore behaviour (``identityserver.testing.contracts.persisted_grants``, Duende
PersistedGrantStoreTests) on every backend, including atomic take/consume under concurrency and edge values."""

from __future__ import annotations

from identityserver.testing.contracts import PersistedGrantStoreContract


class TestPersistedGrantStore(PersistedGrantStoreContract):
    pass
