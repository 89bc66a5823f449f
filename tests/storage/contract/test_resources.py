"""ResourceStore behaviour (``identityserver.testing.contracts.resources``, Duende ResourceStoreTests) on every
backend."""

from __future__ import annotations

from identityserver.testing.contracts import ResourceStoreContract


class TestResourceStore(ResourceStoreContract):
    pass
