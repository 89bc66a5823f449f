"""Queued back-channel logout delivery (OIDC Back-Channel Logout 1.0 §2.5, §2.8): the first attempt is made at
once, failures are retried with exponential backoff on the server's clock with the same ``jti`` and a freshly
signed token, refusals and exhausted deliveries are given up with a warning that carries no token."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import tomllib
from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import pytest

from identityserver.configuration.loader import parse_configuration
from identityserver.models.logout import BackChannelLogoutDelivery
from identityserver.options import LogoutOptions
from identityserver.services.backchannel_logout import DefaultBackChannelLogoutService
from identityserver.services.protocols import QueuedBackChannelLogoutService
from identityserver.stores.in_memory.backchannel_logout_queue import InMemoryBackChannelLogoutQueue
from identityserver.stores.protocols import BackChannelLogoutQueue
from tests.support.server import make_builder, running

CONFIG = """
[[clients]]
client_id = "rp1"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://rp1.example/cb"]
allowed_scopes = ["openid"]
back_channel_logout_uri = "https://rp1.example/bcl"

[[clients]]
client_id = "rp2"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://rp2.example/cb"]
allowed_scopes = ["openid"]
back_channel_logout_uri = "https://rp2.example/bcl"
"""


class Receiver:
    """Answers each POST with the next of ``statuses`` (the last one repeats) or raises a connect error for
    ``None``; records the logout tokens."""

    def __init__(self, *statuses: int | None) -> None:
        self.statuses = list(statuses) or [200]
        self.tokens: list[tuple[str, str]] = []

    def factory(self) -> httpx.AsyncClient:
        def handle(request: httpx.Request) -> httpx.Response:
            self.tokens.append((request.url.host, parse_qs(request.content.decode())["logout_token"][0]))
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            if status is None:
                raise httpx.ConnectError("refused", request=request)
            return httpx.Response(status)

        return httpx.AsyncClient(transport=httpx.MockTransport(handle))


def builder(receiver: Receiver, **logout: object):
    b = make_builder(parse_configuration(tomllib.loads(CONFIG)))
    b.options = dataclasses.replace(b.options, logout=dataclasses.replace(LogoutOptions(), **logout))
    b.add_http_client_factory(receiver.factory)
    return b


def claims(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==="))


async def notify(server, *client_ids: str, session_id: str | None = "S1") -> DefaultBackChannelLogoutService:
    service = server.services.backchannel_logout
    assert isinstance(service, DefaultBackChannelLogoutService)
    clients = [await server.services.clients.find_client_by_id(c) for c in client_ids]
    await service.send_logout_notifications("1", session_id, clients, server.issuer)
    await service.drain()
    return service


async def test_the_first_attempt_is_made_at_once_and_a_sent_delivery_leaves_the_queue():
    receiver = Receiver(200)
    async with running(builder(receiver)) as server:
        service = await notify(server, "rp1", "rp2")
        assert sorted(host for host, _ in receiver.tokens) == ["rp1.example", "rp2.example"]
        server.clock.advance(days=1)
        assert await service.queue.claim(server.clock.utc_now(), server.clock.utc_now(), 10) == []
    assert isinstance(service, QueuedBackChannelLogoutService)
    assert service.run_delivery in server.services.background


async def test_failures_are_retried_with_exponential_backoff_and_the_same_jti(caplog):
    receiver = Receiver(503, None, 500, 200)
    caplog.set_level(logging.INFO, "identityserver.logout")
    async with running(builder(receiver)) as server:
        service = await notify(server, "rp1")
        for delay in (1, 2, 4):
            server.clock.advance(delay - 0.01)
            assert await service.deliver_due() == 0, f"retried before {delay} s"
            server.clock.advance(0.01)
            assert await service.deliver_due() == 1
        server.clock.advance(days=1)
        assert await service.deliver_due() == 0
    sent = [claims(token) for _, token in receiver.tokens]
    assert len(sent) == 4
    assert len({c["jti"] for c in sent}) == 1
    # signed at each attempt: the last token is valid 2 minutes from its own attempt, not from the logout
    assert sent[-1]["iat"] - sent[0]["iat"] == 7 and sent[-1]["exp"] - sent[-1]["iat"] == 120
    assert "attempt 3 of 10, next in 4 s" in caplog.text
    assert not any(token in caplog.text for _, token in receiver.tokens)


@pytest.mark.parametrize("status", [400, 401, 404, 307])
async def test_a_refusal_is_final(status, caplog):
    receiver = Receiver(status, 200)
    async with running(builder(receiver)) as server:
        service = await notify(server, "rp1")
        server.clock.advance(days=1)
        assert await service.deliver_due() == 0
    assert len(receiver.tokens) == 1
    assert f"failed (HTTP {status}); given up after 1 attempt(s)" in caplog.text


async def test_a_delivery_is_given_up_after_the_maximum_attempts_with_a_warning_without_the_token(caplog):
    receiver = Receiver(500)
    async with running(builder(receiver, back_channel_logout_max_attempts=3)) as server:
        service = await notify(server, "rp1")
        for _ in range(5):
            server.clock.advance(60)
            await service.deliver_due()
    assert len(receiver.tokens) == 3
    given_up = [r for r in caplog.records if "given up" in r.getMessage()]
    assert len(given_up) == 1 and given_up[0].levelno == logging.WARNING
    assert "after 3 attempt(s)" in given_up[0].getMessage()
    assert not any(token in caplog.text for _, token in receiver.tokens)


async def test_the_delay_is_capped_and_the_age_bounds_the_retries():
    receiver = Receiver(500)
    options = dict(back_channel_logout_retry_max_delay=10.0, back_channel_logout_max_age=30)
    async with running(builder(receiver, **options)) as server:
        service = await notify(server, "rp1")
        start, attempts_at = server.clock.timestamp(), [0.0]
        for _ in range(60):
            server.clock.advance(1)
            if await service.deliver_due():
                attempts_at.append(server.clock.timestamp() - start)
    # delays 1, 2, 4, 8, then capped at 10; the attempt after 25 s would come 35 s after the logout: given up
    assert attempts_at == [0, 1, 3, 7, 15, 25]
    assert len(receiver.tokens) == 6


async def test_a_delivery_still_leased_to_a_sender_is_not_taken_over():
    receiver = Receiver(200)
    async with running(builder(receiver)) as server:
        service = server.services.backchannel_logout
        assert isinstance(service, DefaultBackChannelLogoutService)
        now = server.clock.utc_now()
        queue = service.queue
        assert isinstance(queue, InMemoryBackChannelLogoutQueue)
        delivery = BackChannelLogoutDelivery("J1", "rp1", "1", "S1", server.issuer, now, now + service.lease)
        await queue.enqueue([delivery])
        assert await service.deliver_due() == 0
        server.clock.advance(service.lease.total_seconds())
        assert await service.deliver_due() == 1
    assert [claims(token)["jti"] for _, token in receiver.tokens] == ["J1"]


async def test_a_queued_delivery_for_a_removed_client_is_dropped(caplog):
    receiver = Receiver(200)
    async with running(builder(receiver)) as server:
        service = server.services.backchannel_logout
        assert isinstance(service, DefaultBackChannelLogoutService)
        now = server.clock.utc_now()
        await service.queue.enqueue([BackChannelLogoutDelivery("J1", "gone", "1", "S1", server.issuer, now, now)])
        assert await service.deliver_due() == 1
        assert await service.deliver_due() == 0
    assert receiver.tokens == []
    assert "client gone given up" in caplog.text


async def test_a_session_bound_client_gets_nothing_without_a_sid():
    receiver = Receiver(200)
    async with running(builder(receiver)) as server:
        service = await notify(server, "rp1", session_id=None)
        assert await service.queue.claim(server.clock.utc_now() + timedelta(days=1), server.clock.utc_now(), 9) == []
    assert receiver.tokens == []


async def test_when_the_queue_fails_the_logout_goes_on_and_the_token_is_sent_once(caplog):
    class BrokenQueue(InMemoryBackChannelLogoutQueue):
        async def enqueue(self, deliveries):  # type: ignore[no-untyped-def]
            raise OSError("database unavailable")

    receiver = Receiver(500)
    b = builder(receiver)
    b.add(BackChannelLogoutQueue, BrokenQueue())
    async with running(b) as server:
        await notify(server, "rp1")
    assert len(receiver.tokens) == 1
    assert "sending them once, without retry" in caplog.text
    assert "given up after 1 attempt(s)" in caplog.text
