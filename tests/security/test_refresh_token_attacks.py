"""security.md §1.3, the ``refresh_token`` grant: the cases tests/endpoints/test_token_refresh.py and
tests/sessions/ do not cover (disabled client, tokens of other kinds, another user signing in on the browser)."""

from __future__ import annotations

import httpx
import pytest

from identityserver.options import ServerSideSessionsOptions
from tests.security.support import server_with
from tests.support.browser import (
    Browser,
    authorize_path,
    code_request,
    obtain_code,
    redeem,
    refresh,
    sign_in,
    tokens_for,
)

COORDINATED_TOML = """
[[clients]]
client_id = "web.coordinated"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "api1"]
allow_offline_access = true
coordinate_lifetime_with_user_session = true
back_channel_logout_uri = "https://web.example/bcl"
"""


class LogoutRecorder:
    """Stands in for the back-channel HTTP client and records what would have been posted."""

    def __init__(self) -> None:
        self.posted: list[str] = []

    def factory(self) -> httpx.AsyncClient:
        def handle(request: httpx.Request) -> httpx.Response:
            self.posted.append(str(request.url))
            return httpx.Response(200)

        return httpx.AsyncClient(transport=httpx.MockTransport(handle))


@pytest.fixture
async def server():
    async with server_with() as srv:
        yield srv


async def test_refresh_token_of_a_client_that_was_disabled_is_refused(server):
    tokens = await tokens_for(server.client)
    client = await server.services.clients.find_client_by_id("web")
    client.enabled = False
    response = await refresh(server.client, "web", tokens["refresh_token"])
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"
    client.enabled = True
    assert (await refresh(server.client, "web", tokens["refresh_token"])).status_code == 200


async def test_reference_access_token_handle_is_not_a_refresh_token(server):
    tokens = await tokens_for(server.client, "web.reference", scope="openid api1 offline_access")
    assert len(tokens["access_token"]) <= 100  # a handle, so it passes the length check
    response = await refresh(server.client, "web.reference", tokens["access_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("kind", ["access_token", "id_token"])
async def test_jwt_of_this_server_is_not_a_refresh_token(server, kind):
    tokens = await tokens_for(server.client)
    response = await refresh(server.client, "web", tokens[kind])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_refresh_token_cannot_be_redeemed_as_a_code_by_its_own_client(server):
    grant = await obtain_code(server.client)
    tokens = (await redeem(server.client, grant)).json()
    response = await redeem(server.client, grant, code=tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert (await refresh(server.client, "web", tokens["refresh_token"])).status_code == 200


async def test_refresh_token_of_user_a_is_refused_after_user_b_signs_in_on_the_same_browser():
    """security.md item 44: a new sign-in ends the browser's previous session and its coordinated refresh tokens."""
    recorder = LogoutRecorder()

    def record(builder) -> None:
        builder.add_http_client_factory(recorder.factory)

    async with server_with(
        COORDINATED_TOML, record, server_side_sessions=ServerSideSessionsOptions(enabled=True)
    ) as server:
        await server.services.users.auto_provision_user("bob", "bob-password", [])
        tokens = await tokens_for(server.client, "web.coordinated", scope="openid api1 offline_access")
        rotated = await refresh(server.client, "web.coordinated", tokens["refresh_token"])
        assert rotated.status_code == 200, rotated.text  # the session is alive and coordinated
        page = await sign_in(Browser(server.client), "bob", "bob-password")
        assert page.status_code == 200
        tokens = rotated.json()
        response = await refresh(server.client, "web.coordinated", tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_reauthentication_of_the_same_user_keeps_the_session_and_notifies_no_client():
    recorder = LogoutRecorder()

    def record(builder) -> None:
        builder.add_http_client_factory(recorder.factory)

    async with server_with(
        COORDINATED_TOML, record, server_side_sessions=ServerSideSessionsOptions(enabled=True)
    ) as server:
        tokens = await tokens_for(server.client, "web.coordinated", scope="openid api1 offline_access")
        browser = Browser(server.client)
        params, _ = code_request("public", "https://app.example/cb", "openid api1", prompt="login")
        page = await browser.get(authorize_path(params))
        step_up = await browser.login(page, "alice", "alice")
        assert step_up.headers["location"].startswith("https://app.example/cb?code=")
        await server.services.backchannel_logout.drain()
        response = await refresh(server.client, "web.coordinated", tokens["refresh_token"])
    assert recorder.posted == []
    assert response.status_code == 200, response.text
