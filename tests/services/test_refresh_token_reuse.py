"""Reuse detection for one-time refresh tokens that are deleted on use (RFC 9700 §4.14.2): the rotated-away token
leaves a tombstone (hash of its handle -> family) until it would have expired; presenting it again revokes the
family unless within ``refresh_token_reuse_grace_period``. Run over every persisted-grant store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from identityserver.constants import PersistedGrantTypes
from identityserver.crypto.hashing import hashed_grant_key
from identityserver.models.claims import Claim, Principal
from identityserver.models.client import Client, TokenExpiration
from identityserver.models.contexts import IsActiveContext, ProfileDataRequestContext
from identityserver.models.grants import PersistedGrantFilter, ProofType, Token
from identityserver.options import OperationalStoreOptions, PersistentGrantOptions
from identityserver.services.grant_revocation import MARKER_LIFETIME, DefaultGrantRevocationService
from identityserver.services.handles import DefaultHandleGenerationService
from identityserver.services.refresh_tokens import (
    UNBOUNDED_TOMBSTONE_LIFETIME,
    DefaultRefreshTokenService,
    RefreshTokenValidationResult,
)
from identityserver.storage.sqlalchemy.stores import SqlPersistedGrantStore
from identityserver.storage.sqlalchemy.token_cleanup import SqlTokenCleanupService
from identityserver.stores.grant_stores import refresh_token_store
from identityserver.stores.in_memory import InMemoryPersistedGrantStore
from identityserver.stores.in_memory.token_cleanup import InMemoryTokenCleanupService
from identityserver.stores.protocols import PersistedGrantStore
from tests.storage.conftest import Backend, all_backends, open_backend, pg_session_url  # noqa: F401 (fixture)
from tests.support.clock import FakeClock
from tests.support.concurrency import InterleavingGrantStore

WEB = Client("web", allow_offline_access=True, absolute_refresh_token_lifetime=3600)
OTHER = Client("other", allow_offline_access=True)
SLIDING = Client(
    "web",
    allow_offline_access=True,
    refresh_token_expiration=TokenExpiration.SLIDING,
    sliding_refresh_token_lifetime=1000,
    absolute_refresh_token_lifetime=2500,
)
UNBOUNDED = Client("web", allow_offline_access=True, absolute_refresh_token_lifetime=0)


@pytest.fixture(params=all_backends())
async def backend(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Backend]:
    async with open_backend(request.param, request, tmp_path) as opened:
        yield opened


class ActiveProfile:
    async def get_profile_data(self, context: ProfileDataRequestContext) -> None:
        return None

    async def is_active(self, context: IsActiveContext) -> None:
        context.is_active = True


class RecordingRevocation(DefaultGrantRevocationService):
    """The default revocation, also recording the refused access-token jtis."""

    def __init__(self, grants: PersistedGrantStore, refresh_tokens: Any, clock: FakeClock, refused: set[str]) -> None:
        super().__init__(grants, refresh_tokens, clock)
        self.refused = refused

    async def revoke_jti(self, jti: str, expiration: int) -> None:
        self.refused.add(jti)
        await super().revoke_jti(jti, expiration)


class Fixture:
    """A refresh-token service over one backend's persisted-grant store, recording refused access-token jtis."""

    def __init__(self, backend: Backend, grace: int = 0, interleave: bool = False) -> None:
        self.clock = FakeClock()
        self.backend = backend
        self.grants: PersistedGrantStore = (
            InMemoryPersistedGrantStore() if backend.kind == "in_memory" else SqlPersistedGrantStore(backend.db)
        )
        store = InterleavingGrantStore(self.grants) if interleave else self.grants
        options = PersistentGrantOptions(data_protect_data=False, refresh_token_reuse_grace_period=grace)
        refresh_store = refresh_token_store(store, DefaultHandleGenerationService(self.clock), None, self.clock)
        self.refused: set[str] = set()
        self.service = DefaultRefreshTokenService(
            refresh_store,
            store,
            ActiveProfile(),
            options,
            self.clock,
            revocation=RecordingRevocation(store, refresh_store, self.clock, self.refused),
        )
        self.issued = 0

    def access_token(self) -> Token:
        self.issued += 1
        return Token(
            "access_token",
            "web",
            "https://idp.example",
            int(self.clock.timestamp()),
            300,
            claims=[Claim("sub", "1"), Claim("jti", f"at-{self.issued}")],
        )

    async def issue(self, client: Client = WEB, subject: str = "1", session: str | None = "session-1") -> str:
        principal = Principal([Claim("sub", subject)])
        return await self.service.create_refresh_token(
            principal, self.access_token(), client, ["openid", "api1"], None, session, ProofType.NONE
        )

    async def refresh(self, handle: str, client: Client = WEB) -> str | RefreshTokenValidationResult:
        """What the token endpoint does: validate, then rotate; the successor or the failed validation."""
        validation = await self.service.validate_refresh_token(handle, client)
        if validation.refresh_token is None:
            return validation
        successor = await self.service.rotate(handle, validation.refresh_token, client, self.access_token())
        return successor if successor is not None else RefreshTokenValidationResult(error="invalid_grant")

    async def rotated(self, handle: str, client: Client = WEB) -> str:
        successor = await self.refresh(handle, client)
        assert isinstance(successor, str), successor
        return successor

    async def is_usable(self, handle: str, client: Client = WEB) -> bool:
        """Introspection's view (no reuse detection)."""
        return not (await self.service.validate_refresh_token(handle, client, detect_reuse=False)).is_error

    async def tombstones(self) -> list[Any]:
        return await self.grants.get_all(
            PersistedGrantFilter(subject_id="1", type=PersistedGrantTypes.USED_REFRESH_TOKEN)
        )

    def record_refresh_token_reads(self) -> list[PersistedGrantFilter]:
        """From now on, the filters of every read of refresh tokens by filter (what a family revocation does)."""
        reads: list[PersistedGrantFilter] = []
        get_all = self.grants.get_all

        async def recording(grant_filter: PersistedGrantFilter) -> list[Any]:
            if grant_filter.type == PersistedGrantTypes.REFRESH_TOKEN:
                reads.append(grant_filter)
            return await get_all(grant_filter)

        self.grants.get_all = recording  # type: ignore[method-assign]
        return reads

    async def cleanup(self) -> None:
        options = OperationalStoreOptions()
        if isinstance(self.grants, InMemoryPersistedGrantStore):
            await InMemoryTokenCleanupService(self.grants, None, options, self.clock).cleanup_grants()
        else:
            await SqlTokenCleanupService(self.backend.db, options, self.clock).cleanup_grants()


def assert_reuse(result: str | RefreshTokenValidationResult) -> None:
    assert isinstance(result, RefreshTokenValidationResult)
    assert result.error == "invalid_grant" and result.error_description == "refresh token was already used"


async def test_replay_of_a_deleted_token_revokes_the_family_and_its_access_tokens(backend):
    f = Fixture(backend)
    first = await f.issue()
    second = await f.rotated(first)
    third = await f.rotated(second)
    assert f.refused == set()
    assert_reuse(await f.refresh(first))
    assert not await f.is_usable(third)
    assert f.refused == {"at-1", "at-2", "at-3"}  # every access token of the family, earlier rotations included
    assert await f.grants.get_all(PersistedGrantFilter(subject_id="1", type=PersistedGrantTypes.REFRESH_TOKEN)) == []


async def test_replay_of_the_middle_token_revokes_the_family_too(backend):
    f = Fixture(backend)
    second = await f.rotated(await f.issue())
    third = await f.rotated(second)
    assert_reuse(await f.refresh(second))
    assert not await f.is_usable(third)


async def test_replay_does_not_touch_another_family_or_another_user(backend):
    f = Fixture(backend)
    first = await f.issue()
    await f.rotated(first)
    sibling = await f.issue()
    stranger = await f.issue(subject="2")
    assert_reuse(await f.refresh(first))
    assert await f.is_usable(sibling) and await f.is_usable(stranger)


async def test_revoking_a_family_reads_only_the_tokens_of_its_session(backend):
    """A user with many sessions (devices) at one client: a replay in one session reads and decrypts that
    session's tokens, not every token the user holds with the client."""
    f = Fixture(backend)
    first = await f.issue()
    second = await f.rotated(first)
    elsewhere = [await f.issue(session=f"device-{i}") for i in range(5)]
    read: list[PersistedGrantFilter] = []
    returned: list[int] = []
    get_all = f.grants.get_all

    async def recording(grant_filter: PersistedGrantFilter) -> list[Any]:
        rows = await get_all(grant_filter)
        read.append(grant_filter)
        returned.append(len(rows))
        return rows

    f.grants.get_all = recording  # type: ignore[method-assign]
    assert_reuse(await f.refresh(first))
    assert not await f.is_usable(second)
    assert all([await f.is_usable(handle) for handle in elsewhere])
    assert read and all(r.session_id == "session-1" for r in read if r.type == PersistedGrantTypes.REFRESH_TOKEN)
    assert max(returned) == 1  # the family's live token, not the other five


async def test_a_family_without_a_session_is_still_revoked_whole(backend):
    """Grants with no session (the device flow, CIBA) fall back to reading the user's tokens at the client."""
    f = Fixture(backend)
    first = await f.issue(session=None)
    second = await f.rotated(first)
    third = await f.rotated(second)
    sibling = await f.issue(session=None)
    assert_reuse(await f.refresh(first))
    assert not await f.is_usable(third)
    assert await f.is_usable(sibling)


async def test_tombstone_holds_only_a_hash_and_lives_until_the_used_token_would_have_expired(backend):
    f = Fixture(backend)
    first = await f.issue()
    f.clock.advance(100)
    await f.rotated(first)
    [tombstone] = await f.tombstones()
    assert tombstone.key == hashed_grant_key(first, PersistedGrantTypes.USED_REFRESH_TOKEN)
    assert first not in tombstone.key and first not in tombstone.data
    assert tombstone.client_id == "web" and tombstone.session_id == "session-1"
    assert tombstone.creation_time == f.clock.utc_now()  # the moment of use: the start of the grace period
    assert tombstone.expiration == f.clock.utc_now() - timedelta(seconds=100) + timedelta(seconds=3600)
    assert tombstone.consumed_time is None  # never removed early by remove_consumed_tokens


async def test_tombstone_of_a_sliding_token_expires_with_the_used_token_not_its_successor(backend):
    f = Fixture(backend)
    first = await f.issue(SLIDING)
    f.clock.advance(900)
    await f.rotated(first, SLIDING)
    [tombstone] = await f.tombstones()
    assert tombstone.expiration == f.clock.utc_now() + timedelta(seconds=100)  # 1000 s after the first issuance


async def test_tombstone_of_a_token_that_never_expires_is_still_bounded(backend):
    f = Fixture(backend)
    first = await f.issue(UNBOUNDED)
    await f.rotated(first, UNBOUNDED)
    [tombstone] = await f.tombstones()
    assert tombstone.expiration == f.clock.utc_now() + timedelta(seconds=UNBOUNDED_TOMBSTONE_LIFETIME)


async def test_cleanup_removes_expired_tombstones_only(backend):
    f = Fixture(backend)
    first = await f.issue()
    second = await f.rotated(first)
    f.clock.advance(3599)
    await f.cleanup()
    assert len(await f.tombstones()) == 1
    f.clock.advance(2)
    await f.cleanup()
    assert await f.tombstones() == []
    assert not await f.is_usable(second)  # expired together with its family's absolute lifetime


async def test_an_expired_tombstone_not_yet_cleaned_up_revokes_nothing(backend):
    f = Fixture(backend)
    client = Client(
        "web",
        allow_offline_access=True,
        refresh_token_expiration=TokenExpiration.SLIDING,
        sliding_refresh_token_lifetime=100,
        absolute_refresh_token_lifetime=0,
    )
    first = await f.issue(client)
    f.clock.advance(90)
    second = await f.rotated(first, client)  # first expires at t = 100, second at t = 190
    f.clock.advance(20)
    result = await f.refresh(first, client)
    assert isinstance(result, RefreshTokenValidationResult)
    assert result.error_description == "refresh token is unknown or revoked"
    assert await f.is_usable(second, client)


async def test_replay_by_another_client_is_an_unknown_token_and_revokes_nothing(backend):
    f = Fixture(backend)
    first = await f.issue()
    second = await f.rotated(first)
    result = await f.refresh(first, OTHER)
    assert isinstance(result, RefreshTokenValidationResult)
    assert result.error_description == "refresh token is unknown or revoked"
    assert await f.is_usable(second)


async def test_introspecting_a_used_token_revokes_nothing(backend):
    f = Fixture(backend)
    first = await f.issue()
    second = await f.rotated(first)
    assert not await f.is_usable(first)
    assert await f.is_usable(second) and f.refused == set()


async def test_within_the_grace_period_a_replay_is_refused_without_revoking(backend):
    f = Fixture(backend, grace=30)
    first = await f.issue()
    second = await f.rotated(first)
    f.clock.advance(29)
    assert_reuse(await f.refresh(first))
    assert await f.is_usable(second) and f.refused == set()
    f.clock.advance(1)  # 30 s after the use: the grace period is over
    assert_reuse(await f.refresh(first))
    assert not await f.is_usable(second)
    assert f.refused == {"at-1", "at-2"}


@pytest.mark.parametrize("delete", [True, False], ids=["delete", "consume"])
async def test_the_grace_period_applies_whether_used_tokens_are_deleted_or_consumed(backend, delete):
    f = Fixture(backend, grace=10)
    f.service.options = PersistentGrantOptions(
        data_protect_data=False, refresh_token_reuse_grace_period=10, delete_one_time_only_refresh_tokens_on_use=delete
    )
    first = await f.issue()
    second = await f.rotated(first)
    f.clock.advance(5)
    assert_reuse(await f.refresh(first))
    assert await f.is_usable(second)
    f.clock.advance(6)
    assert_reuse(await f.refresh(first))
    assert not await f.is_usable(second)


@pytest.mark.parametrize("grace", [0, 30])
async def test_parallel_refreshes_one_wins_the_others_are_reuse(backend, grace):
    f = Fixture(backend, grace=grace, interleave=True)
    first = await f.issue()
    results = await asyncio.gather(*(f.refresh(first) for _ in range(5)))
    winners = [r for r in results if isinstance(r, str)]
    assert len(winners) == 1
    assert all(
        isinstance(r, RefreshTokenValidationResult) and r.error == "invalid_grant"
        for r in results
        if not isinstance(r, str)
    )
    # grace 0: a concurrent use is a reuse and revokes the family, the winner's successor included
    assert await f.is_usable(winners[0]) == (grace > 0)


async def test_a_replay_after_the_family_was_revoked_is_still_refused(backend):
    f = Fixture(backend)
    first = await f.issue()
    await f.rotated(first)
    assert_reuse(await f.refresh(first))
    assert_reuse(await f.refresh(first))


async def test_a_replay_presented_again_does_not_read_the_session_again(backend):
    """Revoking a family reads and decrypts every refresh token of the session at the client; once the family's
    revocation is recorded, the same replay again (a client retrying, or someone replaying on purpose) is refused
    without that read."""
    f = Fixture(backend)
    first = await f.issue()
    second = await f.rotated(first)
    for _ in range(20):
        await f.issue()  # other families of the same session: what the read has to go through
    scans = f.record_refresh_token_reads()
    assert_reuse(await f.refresh(first))
    assert len(scans) == 1 and not await f.is_usable(second)
    for _ in range(3):
        assert_reuse(await f.refresh(first))
    assert len(scans) == 1


async def test_once_the_revocation_is_forgotten_a_replay_revokes_what_the_family_holds_again(backend):
    """The record of a revocation lives MARKER_LIFETIME; once cleanup has removed it, a replay reads the session
    again (and would revoke whatever the family still held)."""
    f = Fixture(backend)
    first = await f.issue()
    await f.rotated(first)
    assert_reuse(await f.refresh(first))
    f.clock.advance(MARKER_LIFETIME + 1)
    await f.cleanup()
    scans = f.record_refresh_token_reads()
    assert_reuse(await f.refresh(first))
    assert len(scans) == 1


@pytest.mark.parametrize("grace", [0, 30])
async def test_a_rotation_writes_its_successor_in_the_step_that_leaves_the_tombstone(backend, grace):
    """One store call a rotation: the tombstone takes the token's place and the successor is stored with it, or
    neither (a refresh that lost the race stores nothing, so nothing is left to discard)."""
    f = Fixture(backend, grace=grace, interleave=True)
    first = await f.issue()
    calls: list[str] = []
    store, replace, remove = f.grants.store, f.grants.replace, f.grants.remove

    async def recording_store(grant: Any) -> None:
        calls.append(f"store {grant.type}")
        await store(grant)

    async def recording_replace(key: str, grant: Any, successor: Any = None) -> bool:
        replaced = await replace(key, grant, successor)
        calls.append(f"replace {grant.type} {successor.type if successor else None} {replaced}")
        return replaced

    async def recording_remove(key: str) -> None:
        calls.append("remove")
        await remove(key)

    f.grants.store, f.grants.replace, f.grants.remove = recording_store, recording_replace, recording_remove  # type: ignore[method-assign]
    # five requests that each validated the token before any rotated it (on every backend, whatever its timing)
    validated = [(await f.service.validate_refresh_token(first, WEB)).refresh_token for _ in range(5)]
    results = await asyncio.gather(
        *(f.service.rotate(first, token, WEB, f.access_token()) for token in validated if token is not None)
    )
    assert len(results) == 5 and sum(r is not None for r in results) == 1
    winner = next(r for r in results if r is not None)
    rotations = [c for c in calls if c.startswith("replace")]
    assert sorted(rotations) == [
        f"replace {PersistedGrantTypes.USED_REFRESH_TOKEN} refresh_token {won}" for won in (False,) * 4 + (True,)
    ]
    assert "store refresh_token" not in calls
    if grace:  # no revocation: nothing is removed either
        assert "remove" not in calls
    tokens = await f.grants.get_all(PersistedGrantFilter(subject_id="1", type=PersistedGrantTypes.REFRESH_TOKEN))
    assert len(tokens) == (1 if grace else 0)  # the winner's successor; without grace the reuse revoked it
    assert await f.is_usable(winner) == (grace > 0)


async def test_a_service_with_its_own_update_refresh_token_still_stores_the_successor_through_it(backend):
    f = Fixture(backend)
    updated: list[str] = []

    class Audited(DefaultRefreshTokenService):
        async def update_refresh_token(self, handle: str, token: Any, client: Client, access_token: Token) -> str:
            updated.append(handle)
            return await super().update_refresh_token(handle, token, client, access_token)

    service = f.service
    f.service = Audited(
        service.store, service.grants, service.profile, service.options, f.clock, None, service.revocation
    )
    first = await f.issue()
    second = await f.rotated(first)
    assert updated == [first] and await f.is_usable(second) and not await f.is_usable(first)
    assert_reuse(await f.refresh(first))
    assert not await f.is_usable(second)  # the replay revoked the family, as without the subclass
