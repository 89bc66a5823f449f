"""A replayed authorization code revokes the refresh-token family its first redemption began (RFC 6749 §4.1.2,
RFC 9700 §4.14.2); the same replay presented again does not repeat the family's revocation, which reads and
decrypts every refresh token of the session at the client."""

from __future__ import annotations

from identityserver.models.claims import Claim, Principal
from identityserver.models.grants import AuthorizationCode
from identityserver.options import OperationalStoreOptions
from identityserver.services.authorization_codes import DefaultAuthorizationCodeService
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
