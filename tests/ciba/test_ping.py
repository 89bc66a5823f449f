"""CIBA ping mode (CIBA Core §10.2): the notification reaches a local listener with the client's bearer token when
the user decides, is retried with backoff, and goes through the outgoing-request guards."""

from __future__ import annotations

import pytest

from identityserver.configuration.errors import ConfigError
from identityserver.options import CibaOptions
from identityserver.services.backchannel_authentication import BackchannelClientNotificationService
from identityserver.services.backchannel_ping import DefaultBackchannelClientNotificationService
from tests.ciba.listener import listening
from tests.ciba.support import backchannel, ciba_builder, decide, poll
from tests.support.data import test_configuration as configuration_with
from tests.support.server import running


def ping_client(url: str, client_id: str = "ciba.pinged") -> str:
    return f"""
[[clients]]
client_id = "{client_id}"
client_secrets = ["secret"]
allowed_grant_types = ["urn:openid:params:grant-type:ciba"]
allowed_scopes = ["openid", "api1"]
backchannel_token_delivery_mode = "ping"
backchannel_client_notification_endpoint = "{url}"
"""


async def test_ping_reaches_the_listener_with_the_bearer_token_then_the_client_polls() -> None:
    async with listening() as listener, running(ciba_builder(ping_client(listener.url))) as server:
        data = {"scope": "openid api1", "login_hint": "alice", "client_notification_token": "rp-token-123"}
        response = await backchannel(server, data, "ciba.pinged")
        assert response.status_code == 200
        auth_req_id = response.json()["auth_req_id"]
        await decide(server)
        await listener.wait_for(1)
        [ping] = listener.received
        assert ping.path == "/ciba-cb"
        assert ping.headers["authorization"] == "Bearer rp-token-123"
        assert ping.headers["content-type"] == "application/json"
        assert ping.body == {"auth_req_id": auth_req_id}
        tokens = await poll(server, auth_req_id, "ciba.pinged")
        assert tokens.status_code == 200
        assert tokens.json()["id_token"]


async def test_a_denial_is_pinged_too() -> None:
    async with listening() as listener, running(ciba_builder(ping_client(listener.url))) as server:
        data = {"scope": "openid", "login_hint": "alice", "client_notification_token": "t"}
        auth_req_id = (await backchannel(server, data, "ciba.pinged")).json()["auth_req_id"]
        await decide(server, approve=False)
        await listener.wait_for(1)
        assert listener.received[0].body == {"auth_req_id": auth_req_id}
        assert (await poll(server, auth_req_id, "ciba.pinged")).json()["error"] == "access_denied"


async def test_ping_mode_requires_a_notification_token() -> None:
    async with running(ciba_builder(ping_client("http://127.0.0.1:9/cb"))) as server:
        missing = await backchannel(server, {"scope": "openid", "login_hint": "alice"}, "ciba.pinged")
        assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
        too_long = await backchannel(
            server, {"scope": "openid", "login_hint": "alice", "client_notification_token": "t" * 1025}, "ciba.pinged"
        )
        assert (too_long.status_code, too_long.json()["error"]) == (400, "invalid_request")


async def test_failed_pings_are_retried_with_backoff_until_delivered() -> None:
    delays: list[float] = []

    async def no_wait(seconds: float) -> None:
        delays.append(seconds)

    async with listening(503, 429, 200) as listener:
        builder = ciba_builder(ping_client(listener.url))
        builder.add(
            BackchannelClientNotificationService,
            DefaultBackchannelClientNotificationService(CibaOptions(), sleep=no_wait),
        )
        async with running(builder) as server:
            data = {"scope": "openid", "login_hint": "alice", "client_notification_token": "t"}
            await backchannel(server, data, "ciba.pinged")
            await decide(server)
            await listener.wait_for(3)
            assert delays == [1.0, 2.0]


async def test_a_final_refusal_is_not_retried() -> None:
    notifications = DefaultBackchannelClientNotificationService(CibaOptions())
    async with listening(400, 200) as listener:
        builder = ciba_builder(ping_client(listener.url))
        builder.add(BackchannelClientNotificationService, notifications)
        async with running(builder) as server:
            data = {"scope": "openid", "login_hint": "alice", "client_notification_token": "t"}
            await backchannel(server, data, "ciba.pinged")
            await decide(server)
            await notifications.drain()
            assert len(listener.received) == 1


async def test_dynamically_registered_clients_are_never_pinged_at_loopback() -> None:
    notifications = DefaultBackchannelClientNotificationService(CibaOptions())
    async with listening() as listener:
        config = configuration_with(ping_client(listener.url))
        builder = ciba_builder()
        for client in config.clients:
            if client.client_id == "ciba.pinged":
                client.properties["identityserver:dynamic_registration"] = "true"
                builder.add_in_memory_clients([client])
        builder.add(BackchannelClientNotificationService, notifications)
        async with running(builder) as server:
            data = {"scope": "openid", "login_hint": "alice", "client_notification_token": "t"}
            assert (await backchannel(server, data, "ciba.pinged")).status_code == 200
            await decide(server)
            await notifications.drain()
            assert listener.received == []


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ('backchannel_token_delivery_mode = "push"', "backchannel_token_delivery_mode"),
        ('backchannel_token_delivery_mode = "ping"', "backchannel_client_notification_endpoint"),
        (
            'backchannel_client_notification_endpoint = "http://rp.example/cb"',
            "backchannel_client_notification_endpoint",
        ),
        (
            'backchannel_client_notification_endpoint = "https://rp.example/cb#x"',
            "backchannel_client_notification_endpoint",
        ),
        ("ciba_lifetime = 0", "ciba_lifetime"),
        ("polling_interval = -1", "polling_interval"),
    ],
)
def test_configuration_file_refuses_unusable_ciba_settings(extra: str, problem: str) -> None:
    text = f"""
[[clients]]
client_id = "bad"
client_secrets = ["secret"]
allowed_grant_types = ["urn:openid:params:grant-type:ciba"]
allowed_scopes = ["openid"]
{extra}
"""
    with pytest.raises(ConfigError, match=problem):
        configuration_with(text)


def test_https_and_loopback_http_endpoints_are_accepted() -> None:
    for url in ("https://rp.example/cb", "http://127.0.0.1:8080/cb", "http://[::1]/cb", "http://localhost:1/cb"):
        config = configuration_with(ping_client(url, "ok"))
        assert any(c.backchannel_client_notification_endpoint == url for c in config.clients)


@pytest.mark.parametrize("field", ["default_lifetime", "default_polling_interval", "notification_max_attempts"])
def test_options_must_be_positive(field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        configuration_with(f"[options.ciba]\n{field} = 0\n")
