"""``TokenCleanupService`` contract (Duende ``TokenCleanupTests``): expired grants and device codes go, valid
ones stay, consumed grants go only when configured and after the configured delay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from identityserver.models.grants import DeviceCode, PersistedGrant, PersistedGrantFilter
from identityserver.options import OperationalStoreOptions
from identityserver.testing.clock import ManualClock
from identityserver.testing.factory import StoreFactory, TokenCleanup


class CleanupFixture:
    """A cleanup service, its stores, its options and a clock, with helpers that date grants relative to it."""

    def __init__(self, parts: TokenCleanup, options: OperationalStoreOptions, clock: ManualClock) -> None:
        self.grants = parts.grants
        self.devices = parts.devices
        self.service = parts.service
        self.options = options
        self.clock = clock

    @classmethod
    async def create(cls, factory: StoreFactory, **options: Any) -> CleanupFixture:
        operational, clock = OperationalStoreOptions(**options), ManualClock()
        return cls(await factory.token_cleanup(operational, clock), operational, clock)

    def grant(
        self, key: str, expiration_seconds: float | None = None, consumed_seconds_ago: float | None = None
    ) -> PersistedGrant:
        now = self.clock.utc_now()
        return PersistedGrant(
            key=key,
            type="refresh_token",
            client_id="c",
            creation_time=now - timedelta(days=1),
            data="{}",
            subject_id="s",
            expiration=None if expiration_seconds is None else now + timedelta(seconds=expiration_seconds),
            consumed_time=None if consumed_seconds_ago is None else now - timedelta(seconds=consumed_seconds_ago),
        )

    def device(self, lifetime_from_now: int) -> DeviceCode:
        now = int(self.clock.timestamp())
        return DeviceCode(
            creation_time=now - 100, lifetime=100 + lifetime_from_now, client_id="c", requested_scopes=["a"]
        )

    async def keys(self) -> set[str]:
        return {g.key for g in await self.grants.get_all(PersistedGrantFilter(client_id="c"))}


class TokenCleanupContract:
    """Needs ``store_factory.token_cleanup``."""

    pytestmark = pytest.mark.asyncio

    async def test_cleanup_grants_when_expired_grants_exist_expect_expired_grants_removed(
        self, store_factory: StoreFactory
    ) -> None:
        f = await CleanupFixture.create(store_factory)
        await f.grants.store(f.grant("expired", expiration_seconds=-1))
        await f.service.cleanup_grants()
        assert await f.grants.get("expired") is None

    async def test_cleanup_grants_when_valid_grants_exist_expect_valid_grants_in_db(
        self, store_factory: StoreFactory
    ) -> None:
        f = await CleanupFixture.create(store_factory)
        await f.grants.store(f.grant("valid", expiration_seconds=60))
        await f.grants.store(f.grant("forever"))
        await f.service.cleanup_grants()
        assert await f.keys() == {"valid", "forever"}

    async def test_cleanup_grants_when_expired_device_grants_exist_expect_expired_device_grants_removed(
        self, store_factory: StoreFactory
    ) -> None:
        f = await CleanupFixture.create(store_factory)
        await f.devices.store_device_authorization("dc", "uc", f.device(-1))
        await f.service.cleanup_grants()
        assert await f.devices.find_by_device_code("dc") is None

    async def test_cleanup_grants_when_valid_device_grants_exist_expect_valid_device_grants_in_db(
        self, store_factory: StoreFactory
    ) -> None:
        f = await CleanupFixture.create(store_factory)
        await f.devices.store_device_authorization("dc", "uc", f.device(60))
        await f.service.cleanup_grants()
        assert await f.devices.find_by_device_code("dc") is not None

    async def test_cleanup_grants_when_flag_is_on_and_consumed_grants_exist_expect_consumed_grants_removed(
        self, store_factory: StoreFactory
    ) -> None:
        f = await CleanupFixture.create(store_factory, remove_consumed_tokens=True)
        await f.grants.store(f.grant("consumed", expiration_seconds=60, consumed_seconds_ago=1))
        await f.grants.store(f.grant("live", expiration_seconds=60))
        await f.service.cleanup_grants()
        assert await f.keys() == {"live"}

    async def test_cleanup_grants_when_flag_is_off_and_consumed_grants_exist_expect_consumed_grants_not_removed(
        self, store_factory: StoreFactory
    ) -> None:
        f = await CleanupFixture.create(store_factory, remove_consumed_tokens=False)
        await f.grants.store(f.grant("consumed", expiration_seconds=60, consumed_seconds_ago=1))
        await f.service.cleanup_grants()
        assert await f.keys() == {"consumed"}

    async def test_cleanup_grants_when_flag_is_on_and_consumed_grants_exist_and_delay_is_set_expect_consumed_grants_removed_respects_delay(  # noqa: E501
        self, store_factory: StoreFactory
    ) -> None:
        f = await CleanupFixture.create(store_factory, remove_consumed_tokens=True, consumed_token_cleanup_delay=10)
        await f.grants.store(f.grant("recent", expiration_seconds=60, consumed_seconds_ago=5))
        await f.grants.store(f.grant("old", expiration_seconds=60, consumed_seconds_ago=15))
        await f.service.cleanup_grants()
        assert await f.keys() == {"recent"}
