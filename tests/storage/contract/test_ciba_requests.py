"""CIBA requests over every persisted-grant backend (in memory, SQLite, PostgreSQL when configured): stored as
``ciba`` grants under the hash of the ``auth_req_id``, listed per user, updated, taken once."""

from __future__ import annotations

import asyncio

from identityserver.models.backchannel_authentication import BackChannelAuthenticationRequest
from identityserver.models.claims import Claim, Principal
from identityserver.services.handles import DefaultHandleGenerationService
from identityserver.stores.backchannel_authentication import DefaultBackChannelAuthenticationRequestStore
from identityserver.testing.factory import StoreFactory
from tests.support.clock import FakeClock


def request(
    clock: FakeClock, subject: str = "1", lifetime: int = 300, **extra: object
) -> BackChannelAuthenticationRequest:
    return BackChannelAuthenticationRequest(
        creation_time=int(clock.timestamp()),
        lifetime=lifetime,
        client_id="ciba",
        subject=Principal([Claim("sub", subject)]),
        requested_scopes=["openid", "api1"],
        binding_message="W4SCT",
        **extra,  # type: ignore[arg-type]
    )


async def test_requests_round_trip_and_are_taken_exactly_once(store_factory: StoreFactory) -> None:
    clock = FakeClock()
    grants = await store_factory.persisted_grant_store()
    store = DefaultBackChannelAuthenticationRequestStore(grants, DefaultHandleGenerationService(clock), None, clock)
    first = request(clock)
    auth_req_id = await store.create_request(first)
    await store.create_request(request(clock, subject="2"))
    await store.create_request(request(clock, lifetime=10))
    row = await grants.get(first.internal_id)
    assert row is not None and row.type == "ciba" and row.subject_id == "1"
    assert auth_req_id not in row.key and auth_req_id not in row.data
    loaded = await store.get_by_authentication_request_id(auth_req_id)
    assert loaded is not None and loaded.internal_id == row.key
    assert loaded.binding_message == "W4SCT" and loaded.ping_authentication_request_id is None
    clock.advance(11)
    pending = await store.get_logins_for_user("1")
    assert [p.internal_id for p in pending] == [row.key]  # the short one expired, bob's is not alice's
    loaded.is_complete, loaded.authorized_scopes = True, ["openid"]
    await store.update_by_internal_id(row.key, loaded)
    assert await store.get_logins_for_user("1") == []
    taken = await asyncio.gather(*(store.take_by_internal_id(row.key) for _ in range(6)))
    winners = [t for t in taken if t is not None]
    assert len(winners) == 1 and winners[0].authorized_scopes == ["openid"]
    assert await store.get_by_authentication_request_id(auth_req_id) is None


async def test_ping_requests_keep_their_id_in_the_protected_payload(store_factory: StoreFactory) -> None:
    clock = FakeClock()
    grants = await store_factory.persisted_grant_store()
    store = DefaultBackChannelAuthenticationRequestStore(grants, DefaultHandleGenerationService(clock), None, clock)
    auth_req_id = await store.create_request(request(clock, client_notification_token="t"))
    loaded = await store.get_by_authentication_request_id(auth_req_id)
    assert loaded is not None and loaded.ping_authentication_request_id == auth_req_id
