"""User store behaviour (``identityserver.testing.contracts.users``): the in-memory TestUserStore and the SQL
store of imported users."""

from __future__ import annotations

from identityserver.testing.contracts import UserStoreContract


class TestUserStores(UserStoreContract):
    pass
