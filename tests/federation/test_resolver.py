"""``DefaultExternalUserResolver``: never takes over a local account by name, refuses inactive users, maps only
standard profile claims."""

from __future__ import annotations

from identityserver.models.claims import Claim
from identityserver.models.users import TestUser
from identityserver.services.identity_providers import DefaultExternalUserResolver, map_claims
from identityserver.stores.identity_providers import InMemoryExternalLoginStore
from identityserver.stores.in_memory.users import TestUserStore
from tests.support.clock import FakeClock


def resolver(*users: TestUser) -> DefaultExternalUserResolver:
    return DefaultExternalUserResolver(TestUserStore(users), InMemoryExternalLoginStore(), FakeClock())


async def test_a_local_username_is_never_taken_over() -> None:
    local = TestUser("local-1", "corp.alice", "unused-hash", [Claim("name", "Local Alice")])
    users = resolver(local)
    provisioned = await users.resolve("corp", {"sub": "u1", "preferred_username": "alice"}, None)
    assert provisioned is not None and provisioned.subject_id != "local-1"
    assert provisioned.username.startswith("corp.alice.")


async def test_an_inactive_or_missing_linked_user_is_refused() -> None:
    users = resolver(TestUser("local-1", "bob", "unused-hash"))
    linked = await users.resolve("corp", {"sub": "u1"}, "local-1")
    assert linked is not None and linked.subject_id == "local-1"
    assert users.users is not None
    (await users.users.find_by_subject_id("local-1")).is_active = False  # type: ignore[union-attr]
    assert await users.resolve("corp", {"sub": "u1"}, None) is None
    assert await users.resolve("corp", {"sub": "u2"}, "nobody") is None


async def test_only_standard_profile_claims_become_local_claims() -> None:
    claims = map_claims(
        {"sub": "u1", "iss": "x", "amr": ["pwd"], "role": "admin", "name": "A", "email_verified": True, "email": ""}
    )
    assert [(c.type, c.value) for c in claims] == [("name", "A"), ("email_verified", "true")]
