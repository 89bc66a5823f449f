"""A replayed authorization code revokes the refresh-token family its first redemption began (RFC 6749 §4.1.2,
RFC 9700 §4.14.2); the same replay presented again does not repeat the family's revocation, which reads and
decrypts every refresh token of the session at the client."""

from __future__ import annotations

import re

import pytest

from identityserver.models.claims import Claim, Principal
from identityserver.models.grants import AuthorizationCode, PersistedGrant, PersistedGrantFilter, RefreshToken
from identityserver.options import OperationalStoreOptions
from identityserver.services.authorization_codes import (
    DERIVED_JTI_REVOCATION,
    ISSUED,
    DefaultAuthorizationCodeService,
    IssuedTokens,
    access_token_jti,
)
from identityserver.services.grant_revocation import MARKER_LIFETIME, DefaultGrantRevocationService
from identityserver.services.handles import DefaultHandleGenerationService
from identityserver.stores.grant_stores import authorization_code_store, refresh_token_store
from identityserver.stores.in_memory import InMemoryPersistedGrantStore
from identityserver.stores.in_memory.token_cleanup import InMemoryTokenCleanupService
from tests.support.clock import FakeClock


class CountingRevocation(DefaultGrantRevocationService):
    """The default revocation, counting the family revocations it carries out."""

    revoked: list[str]

    async def revoke_family(self, subject_id: str, client_id: str, family_id: str, session_id: str | None) -> None:
        self.revoked.append(family_id)
        await super().revoke_family(subject_id, client_id, family_id, session_id)


def service() -> tuple[DefaultAuthorizationCodeService, CountingRevocation, FakeClock, InMemoryPersistedGrantStore]:
    clock = FakeClock()
    grants = InMemoryPersistedGrantStore()
    handles = DefaultHandleGenerationService(clock)
    revocation = CountingRevocation(grants, refresh_token_store(grants, handles, None, clock), clock)
    revocation.revoked = []
    codes = authorization_code_store(grants, handles, None, clock)
    return DefaultAuthorizationCodeService(codes, grants, clock, revocation), revocation, clock, grants


async def code(codes: DefaultAuthorizationCodeService, clock: FakeClock, lifetime: int = 300) -> str:
    return await codes.create(
        AuthorizationCode(
            int(clock.timestamp()),
            lifetime,
            "web",
            Principal([Claim("sub", "1")]),
            True,
            ["openid", "offline_access"],
            "https://app.example/cb",
            session_id="session-1",
        )
    )


async def test_a_replayed_code_revokes_its_family_once_however_often_it_is_presented() -> None:
    codes, revocation, clock, _ = service()
    handle = await code(codes, clock)
    assert (await codes.redeem(handle)).code is not None
    for _ in range(4):
        replay = await codes.redeem(handle)
        assert replay.code is None and replay.replayed
    assert revocation.revoked == [codes.family_id(handle)]
    assert await revocation.is_family_revoked(codes.family_id(handle))


async def test_a_replay_after_the_revocation_is_forgotten_revokes_again() -> None:
    codes, revocation, clock, grants = service()
    handle = await code(codes, clock, lifetime=3600)  # a code lives past the record (only in this test)
    await codes.redeem(handle)
    await codes.redeem(handle)
    clock.advance(MARKER_LIFETIME + 1)
    await InMemoryTokenCleanupService(grants, None, OperationalStoreOptions(), clock).cleanup_grants()
    await codes.redeem(handle)
    assert revocation.revoked == [codes.family_id(handle)] * 2


async def test_replays_of_two_codes_revoke_two_families() -> None:
    codes, revocation, clock, _ = service()
    first, second = await code(codes, clock), await code(codes, clock)
    for handle in (first, second, first, second):
        await codes.redeem(handle)
    await codes.redeem(first)
    await codes.redeem(second)
    assert revocation.revoked == [codes.family_id(first), codes.family_id(second)]


# -- what a replay derives from the code, and what the redemption still records -----------------------------------


def refresh_token(codes: DefaultAuthorizationCodeService, clock: FakeClock, handle: str) -> RefreshToken:
    return RefreshToken(
        int(clock.timestamp()),
        3600,
        "web",
        Principal([Claim("sub", "1")]),
        ["openid", "offline_access"],
        session_id="session-1",
        family_id=codes.family_id(handle),
    )


async def issue(
    codes: DefaultAuthorizationCodeService, clock: FakeClock, grants: InMemoryPersistedGrantStore, handle: str
) -> IssuedTokens:
    """What the token endpoint issues for the winning redemption, short of recording it: the refresh token of the
    code's family stored, a JWT with the derived ``jti``."""
    tokens = refresh_token_store(grants, DefaultHandleGenerationService(clock), None, clock)
    stored = refresh_token(codes, clock, handle)
    refresh_handle = await tokens.store_item(
        stored, "web", "1", "session-1", None, stored.creation_time, stored.lifetime
    )
    return IssuedTokens(
        refresh_token_key=tokens.get_hashed_key(refresh_handle),
        access_token_jti=access_token_jti(handle),
        access_token_expiration=int(clock.timestamp()) + 3600,
    )


async def redemption(
    codes: DefaultAuthorizationCodeService, clock: FakeClock, grants: InMemoryPersistedGrantStore, handle: str
) -> tuple[AuthorizationCode, IssuedTokens]:
    """The winning redemption: the code redeemed, then its tokens issued (``issue``)."""
    redeemed = (await codes.redeem(handle)).code
    assert redeemed is not None
    return redeemed, await issue(codes, clock, grants, handle)


async def kinds(grants: InMemoryPersistedGrantStore) -> set[str]:
    return {grant.type for grant in await grants.get_all(PersistedGrantFilter(subject_id="1"))}


async def test_the_jti_of_a_code_is_the_same_for_the_code_and_differs_per_code() -> None:
    codes, _, clock, _ = service()
    first, second = await code(codes, clock), await code(codes, clock)
    assert access_token_jti(first) == access_token_jti(first)
    assert access_token_jti(first) != access_token_jti(second)
    assert re.fullmatch("[0-9A-F]{32}", access_token_jti(first))  # the form of every other jti (new_jti)


async def test_a_redemption_that_a_replay_can_derive_writes_no_record_and_a_later_replay_revokes_it() -> None:
    codes, revocation, clock, grants = service()
    handle = await code(codes, clock)
    redeemed, issued = await redemption(codes, clock, grants, handle)
    await codes.record_issued(handle, redeemed, issued)
    assert ISSUED not in await kinds(grants)
    assert await grants.get(issued.refresh_token_key or "") is not None
    clock.advance(30)
    assert (await codes.redeem(handle)).replayed
    assert await grants.get(issued.refresh_token_key or "") is None
    assert await revocation.is_jti_revoked(access_token_jti(handle))


async def test_a_replay_between_redemption_and_record_is_caught_by_the_redemption() -> None:
    """The replay finds neither record nor refresh token yet; the redemption, storing first, finds its marker."""
    codes, revocation, clock, grants = service()
    handle = await code(codes, clock)
    redeemed = (await codes.redeem(handle)).code
    assert redeemed is not None
    assert (await codes.redeem(handle)).replayed  # before the winner stored anything
    assert await revocation.is_jti_revoked(access_token_jti(handle))  # the JWT to come is refused already
    issued = await issue(codes, clock, grants, handle)
    await codes.record_issued(handle, redeemed, issued)
    assert ISSUED not in await kinds(grants)  # a redemption a replay can derive: no record
    assert await grants.get(issued.refresh_token_key or "") is None


@pytest.mark.parametrize("case", ["a reference token", "a jti of its own", "a JWT living past the revocation"])
async def test_what_a_replay_cannot_derive_is_recorded_and_revoked_by_the_replay(case: str) -> None:
    codes, revocation, clock, grants = service()
    handle = await code(codes, clock)
    redeemed, issued = await redemption(codes, clock, grants, handle)
    if case == "a reference token":
        issued.reference_token_key = "REFERENCE-KEY"
        await grants.store(
            PersistedGrant(issued.reference_token_key, "reference_token", "web", clock.utc_now(), "{}", subject_id="1")
        )
    elif case == "a jti of its own":  # a TokenService of one's own that ignores TokenCreationRequest.jwt_id
        issued.access_token_jti = "A-JTI-OF-A-CUSTOM-TOKEN-SERVICE"
    else:
        issued.access_token_expiration = redeemed.creation_time + DERIVED_JTI_REVOCATION + 1
    await codes.record_issued(handle, redeemed, issued)
    assert ISSUED in await kinds(grants)
    assert (await codes.redeem(handle)).replayed
    assert await revocation.is_jti_revoked(issued.access_token_jti or "")
    assert await grants.get(issued.refresh_token_key or "") is None
    if issued.reference_token_key:
        assert await grants.get(issued.reference_token_key) is None
