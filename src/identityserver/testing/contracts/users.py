"""``UserStore`` contract: credentials checked case-insensitively by username, lookups by subject and
username, and provisioned users that can sign in under a unique name."""

from __future__ import annotations

import functools

import pytest
import pytest_asyncio

from identityserver.crypto.passwords import hash_password
from identityserver.models.claims import Claim
from identityserver.models.users import TestUser
from identityserver.stores.protocols import UserStore
from identityserver.testing.factory import StoreFactory


@functools.cache
def alice() -> TestUser:
    """The user the ``store`` fixture holds (password ``pw``); hashed on first use, not at import."""
    return TestUser(
        "1", "Alice", hash_password("pw"), [Claim("name", "Ålice"), Claim("email_verified", "true", "boolean")]
    )


class UserStoreContract:
    """Needs ``store_factory.user_store``; the ``store`` fixture holds ``alice()``."""

    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def store(self, store_factory: StoreFactory) -> UserStore:
        return await store_factory.user_store([alice()])

    async def test_credentials_are_checked_case_insensitively_by_username(self, store: UserStore) -> None:
        assert await store.validate_credentials("alice", "pw") == alice()
        assert await store.validate_credentials("ALICE", "wrong") is None
        assert await store.validate_credentials("nobody", "pw") is None

    async def test_users_are_found_by_subject_and_username(self, store: UserStore) -> None:
        assert await store.find_by_subject_id("1") == alice()
        assert await store.find_by_username("aLiCe") == alice()
        assert await store.find_by_subject_id("2") is None

    async def test_provisioned_users_can_sign_in_and_names_stay_unique(self, store: UserStore) -> None:
        created = await store.auto_provision_user("bob", "secret", [Claim("name", "Bob")])
        assert await store.validate_credentials("bob", "secret") == created
        with pytest.raises(ValueError):
            await store.auto_provision_user("BOB", "other", [])
