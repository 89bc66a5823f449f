"""``PasskeyStore`` and ``TotpStore`` contracts: credentials by id and by user, counters that only grow
(WebAuthn §6.1.1), per-user rename and removal, TOTP steps used once (RFC 6238 §5.2) and one-time recovery codes,
each under concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from identityserver.models.sign_in_methods import PasskeyCredential, TotpEnrolment
from identityserver.stores.protocols import PasskeyStore, TotpStore
from identityserver.testing.factory import StoreFactory

CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def passkey(credential_id: str = "Y3JlZA", subject_id: str = "alice", sign_count: int = 0) -> PasskeyCredential:
    return PasskeyCredential(
        credential_id=credential_id,
        subject_id=subject_id,
        user_handle="aGFuZGxl",
        public_key="cHVibGlj",
        sign_count=sign_count,
        name="Laptop",
        created=CREATED,
        transports=["internal", "hybrid"],
        backup_eligible=True,
        backed_up=False,
        aaguid="00000000-0000-0000-0000-000000000000",
    )


class PasskeyStoreContract:
    """Needs ``store_factory.passkey_store``."""

    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def store(self, store_factory: StoreFactory) -> PasskeyStore:
        return await store_factory.passkey_store()

    async def test_credentials_round_trip_and_ids_are_unique(self, store: PasskeyStore) -> None:
        assert await store.add(passkey())
        assert await store.find("Y3JlZA") == passkey()
        assert not await store.add(passkey(subject_id="mallory"))
        assert (await store.find("Y3JlZA")) == passkey()
        assert await store.find("other") is None

    async def test_credentials_are_listed_per_user_oldest_first(self, store: PasskeyStore) -> None:
        later = passkey("bGF0ZXI")
        later.created = CREATED + timedelta(days=1)
        await store.add(later)
        await store.add(passkey())
        await store.add(passkey("Ym9i", "bob"))
        assert [c.credential_id for c in await store.find_by_subject("alice")] == ["Y3JlZA", "bGF0ZXI"]
        assert await store.find_by_subject("nobody") == []

    async def test_counters_only_grow(self, store: PasskeyStore) -> None:
        await store.add(passkey(sign_count=5))
        used = CREATED + timedelta(hours=1)
        assert not await store.record_use("Y3JlZA", 5, True, used)
        assert not await store.record_use("Y3JlZA", 4, True, used)
        assert await store.record_use("Y3JlZA", 6, True, used)
        found = await store.find("Y3JlZA")
        assert found is not None
        assert (found.sign_count, found.backed_up, found.last_used) == (6, True, used)
        assert not await store.record_use("missing", 9, False, used)

    async def test_authenticators_without_a_counter_stay_at_zero(self, store: PasskeyStore) -> None:
        await store.add(passkey())
        assert await store.record_use("Y3JlZA", 0, False, CREATED)
        assert await store.record_use("Y3JlZA", 0, False, CREATED)
        await store.add(passkey("Y291bnRlZA", sign_count=3))
        assert not await store.record_use("Y291bnRlZA", 0, False, CREATED)

    async def test_one_of_concurrent_uses_of_a_counter_wins(self, store: PasskeyStore) -> None:
        await store.add(passkey(sign_count=1))
        results = await asyncio.gather(*(store.record_use("Y3JlZA", 2, False, CREATED) for _ in range(5)))
        assert sorted(results) == [False] * 4 + [True]

    async def test_only_the_owner_renames_or_removes(self, store: PasskeyStore) -> None:
        await store.add(passkey())
        assert not await store.rename("bob", "Y3JlZA", "Stolen")
        assert not await store.remove("bob", "Y3JlZA")
        assert await store.rename("alice", "Y3JlZA", "Phone")
        found = await store.find("Y3JlZA")
        assert found is not None and found.name == "Phone"
        assert await store.remove("alice", "Y3JlZA")
        assert await store.find("Y3JlZA") is None
        assert not await store.remove("alice", "Y3JlZA")


def enrolment(subject_id: str = "alice") -> TotpEnrolment:
    return TotpEnrolment(subject_id, "sealed-secret", CREATED, True, None, ["h1", "h2", "h3"])


class TotpStoreContract:
    """Needs ``store_factory.totp_store``."""

    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def store(self, store_factory: StoreFactory) -> TotpStore:
        return await store_factory.totp_store()

    async def test_enrolments_are_saved_replaced_and_removed(self, store: TotpStore) -> None:
        assert await store.get("alice") is None
        pending = TotpEnrolment("alice", "first", CREATED)
        await store.save(pending)
        assert await store.get("alice") == pending
        await store.save(enrolment())
        assert await store.get("alice") == enrolment()
        await store.remove("alice")
        assert await store.get("alice") is None
        await store.remove("alice")

    async def test_a_step_is_used_once_and_older_steps_never(self, store: TotpStore) -> None:
        await store.save(enrolment())
        assert await store.use_step("alice", 100)
        assert not await store.use_step("alice", 100)
        assert not await store.use_step("alice", 99)
        assert await store.use_step("alice", 101)
        found = await store.get("alice")
        assert found is not None and found.last_used_step == 101
        assert not await store.use_step("bob", 1)

    async def test_one_of_concurrent_uses_of_a_step_wins(self, store: TotpStore) -> None:
        await store.save(enrolment())
        results = await asyncio.gather(*(store.use_step("alice", 7) for _ in range(5)))
        assert sorted(results) == [False] * 4 + [True]

    async def test_recovery_codes_are_used_once(self, store: TotpStore) -> None:
        await store.save(enrolment())
        await store.save(enrolment("bob"))
        assert await store.use_recovery_code("alice", "h2")
        assert not await store.use_recovery_code("alice", "h2")
        assert not await store.use_recovery_code("alice", "unknown")
        found = await store.get("alice")
        assert found is not None and found.recovery_codes == ["h1", "h3"]
        other = await store.get("bob")
        assert other is not None and other.recovery_codes == ["h1", "h2", "h3"]
        results = await asyncio.gather(*(store.use_recovery_code("alice", "h1") for _ in range(4)))
        assert sorted(results) == [False] * 3 + [True]
