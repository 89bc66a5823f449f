"""Server-side sessions, session management and coordination of token lifetimes with the session
(Duende ``ISessionManagementService``, ``DefaultSessionCoordinationService``)."""

from __future__ import annotations

import dataclasses
import tomllib
from urllib.parse import parse_qs

import httpx
import pytest

from identityserver.configuration.loader import parse_configuration
from identityserver.models.sessions import SessionQuery
from identityserver.options import AuthenticationOptions, ServerSideSessionsOptions
from identityserver.services.session_management import RemoveSessionsContext
from tests.integration.test_backchannel_logout import sign_in, sign_out
from tests.support.server import basic, make_builder, running

CONFIG = """
[[clients]]
client_id = "rp1"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://rp1.example/cb"]
allowed_scopes = ["openid", "profile"]
allow_offline_access = true
coordinate_lifetime_with_user_session = true
back_channel_logout_uri = "https://rp1.example/bcl"

[[clients]]
client_id = "rp2"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://rp2.example/cb"]
allowed_scopes = ["openid", "profile"]
allow_offline_access = true
back_channel_logout_uri = "https://rp2.example/bcl"

[[users]]
subject_id = "1"
username = "alice"
password = "alice"
[users.claims]
name = "Alice"
"""


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def factory(self) -> httpx.AsyncClient:
        def handle(request: httpx.Request) -> httpx.Response:
            self.calls.append((str(request.url), parse_qs(request.content.decode())))
            return httpx.Response(200)

        return httpx.AsyncClient(transport=httpx.MockTransport(handle))

    def urls(self) -> list[str]:
        return sorted(url for url, _ in self.calls)


def builder(recorder: Recorder, trigger_backchannel_on_expiry: bool = False):
    b = make_builder(parse_configuration(tomllib.loads(CONFIG)))
    b.options = dataclasses.replace(
        b.options,
        server_side_sessions=ServerSideSessionsOptions(
            enabled=True, expired_sessions_trigger_backchannel_logout=trigger_backchannel_on_expiry
        ),
        authentication=AuthenticationOptions(cookie_lifetime=3600),
    )
    b.add_http_client_factory(recorder.factory)
    return b


@pytest.fixture
def recorder():
    return Recorder()


async def refresh(server, client_id, token):
    return await server.token(
        {"grant_type": "refresh_token", "refresh_token": token}, headers=basic(client_id, "secret")
    )


async def test_sign_in_creates_a_server_side_session_that_can_be_queried(recorder):
    async with running(builder(recorder)) as server:
        await sign_in(server)
        result, sessions = await server.services.session_management.query_sessions(
            SessionQuery(subject_id="1", count_requested=True)
        )
    assert result.total_count == 1
    assert sessions[0].subject_id == "1" and sessions[0].display_name == "Alice"
    assert sessions[0].client_ids == ["rp1"]


async def test_session_cookie_carries_only_a_protected_key(recorder):
    async with running(builder(recorder)) as server:
        await sign_in(server)
        cookie = server.client.cookies["idsrv"]
        session = (await server.services.session_management.query_sessions(SessionQuery(subject_id="1")))[0].results[0]
    assert session.key not in cookie and "alice" not in cookie.lower()
    assert len(cookie) < 200


async def test_logout_revokes_coordinated_refresh_tokens_and_notifies_every_client(recorder):
    async with running(builder(recorder)) as server:
        first = await sign_in(server)
        second = await sign_in(server, "rp2", "https://rp2.example/cb")
        await sign_out(server, first["id_token"])
        await server.services.backchannel_logout.drain()
        assert (await refresh(server, "rp1", first["refresh_token"])).status_code == 400
        assert (await refresh(server, "rp2", second["refresh_token"])).status_code == 200
    assert recorder.urls() == ["https://rp1.example/bcl", "https://rp2.example/bcl"]


async def test_coordinated_access_token_fails_at_userinfo_after_logout(recorder):
    async with running(builder(recorder)) as server:
        tokens = await sign_in(server)
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert (await server.client.get("/connect/userinfo", headers=auth)).status_code == 200
        await sign_out(server, tokens["id_token"])
        assert (await server.client.get("/connect/userinfo", headers=auth)).status_code == 401


async def test_using_a_refresh_token_slides_the_session(recorder):
    async with running(builder(recorder)) as server:
        tokens = await sign_in(server)
        store = server.services.server_side_sessions
        before = (await server.services.session_management.query_sessions(SessionQuery(subject_id="1")))[0]
        expires_before = before.results[0].expires
        server.clock.advance(1800)
        assert (await refresh(server, "rp1", tokens["refresh_token"])).status_code == 200
        after = await store.get_session(before.results[0].key)
    assert after is not None and after.expires > expires_before


async def test_ending_a_users_sessions_revokes_tokens_and_consents(recorder):
    async with running(builder(recorder)) as server:
        tokens = await sign_in(server)
        removed = await server.services.session_management.remove_sessions(
            RemoveSessionsContext(subject_id="1"), server.issuer
        )
        await server.services.backchannel_logout.drain()
        assert removed == 1
        assert (await refresh(server, "rp1", tokens["refresh_token"])).status_code == 400
        home = await server.client.get("/")
        assert "Signed in as" not in home.text
    assert recorder.urls() == ["https://rp1.example/bcl"]


async def test_expired_sessions_are_removed_and_coordinated_clients_notified(recorder):
    async with running(builder(recorder)) as server:
        tokens = await sign_in(server)
        await sign_in(server, "rp2", "https://rp2.example/cb")
        server.clock.advance(3601)
        removed = await server.services.session_management.remove_expired_sessions(100, None)
        await server.services.backchannel_logout.drain()
        assert removed == 1
        assert (await refresh(server, "rp1", tokens["refresh_token"])).status_code == 400
    assert recorder.urls() == ["https://rp1.example/bcl"]


async def test_expired_sessions_can_notify_every_client(recorder):
    async with running(builder(recorder, trigger_backchannel_on_expiry=True)) as server:
        await sign_in(server)
        await sign_in(server, "rp2", "https://rp2.example/cb")
        server.clock.advance(3601)
        await server.services.session_management.remove_expired_sessions(100, None)
        await server.services.backchannel_logout.drain()
    assert recorder.urls() == ["https://rp1.example/bcl", "https://rp2.example/bcl"]
