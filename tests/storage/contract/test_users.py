"""User store behaviour: the in-memory TestUserStore and the SQL store of imported users."""

from __future__ import annotations

import pytest

from identityserver.crypto.passwords import hash_password
from identityserver.models.claims import Claim
from identityserver.models.users import TestUser
from identityserver.storage.sqlalchemy.stores import SqlUserStore
from identityserver.stores.in_memory.users import TestUserStore

ALICE = TestUser(
    "1", "Alice", hash_password("pw"), [Claim("name", "Ålice"), Claim("email_verified", "true", "boolean")]
)


@pytest.fixture
async def store(backend):
    if backend.kind == "in_memory":
        return TestUserStore([ALICE])
    sql = SqlUserStore(backend.db)
    await sql.save_users([ALICE])
    return sql


async def test_credentials_are_checked_case_insensitively_by_username(store):
    assert await store.validate_credentials("alice", "pw") == ALICE
    assert await store.validate_credentials("ALICE", "wrong") is None
    assert await store.validate_credentials("nobody", "pw") is None


async def test_users_are_found_by_subject_and_username(store):
    assert await store.find_by_subject_id("1") == ALICE
    assert await store.find_by_username("aLiCe") == ALICE
    assert await store.find_by_subject_id("2") is None


async def test_provisioned_users_can_sign_in_and_names_stay_unique(store):
    created = await store.auto_provision_user("bob", "secret", [Claim("name", "Bob")])
    assert await store.validate_credentials("bob", "secret") == created
    with pytest.raises(ValueError):
        await store.auto_provision_user("BOB", "other", [])
