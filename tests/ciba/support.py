"""CIBA test clients (TOML put before the canonical test configuration) and request helpers."""

from __future__ import annotations

from typing import Any

import httpx

from identityserver.configuration.builder import IdentityServerBuilder
from tests.support.browser import Browser, sign_in
from tests.support.data import ALICE_PASSWORD_HASH, test_configuration
from tests.support.server import Server, make_builder

CIBA_GRANT = "urn:openid:params:grant-type:ciba"

CIBA_TOML = """
[[clients]]
client_id = "ciba"
client_name = "Example Bank"
client_secrets = ["secret"]
allowed_grant_types = ["urn:openid:params:grant-type:ciba"]
allowed_scopes = ["openid", "profile", "email", "api1"]
allow_offline_access = true

[[clients]]
client_id = "ciba.other"
client_secrets = ["secret"]
allowed_grant_types = ["urn:openid:params:grant-type:ciba"]
allowed_scopes = ["openid", "api1"]

[[clients]]
client_id = "ciba.strict"
client_secrets = ["secret"]
allowed_grant_types = ["urn:openid:params:grant-type:ciba"]
allowed_scopes = ["openid", "api1"]
backchannel_user_code_parameter = true
ciba_lifetime = 120
polling_interval = 10

[[clients]]
client_id = "ciba.ping"
client_secrets = ["secret"]
allowed_grant_types = ["urn:openid:params:grant-type:ciba"]
allowed_scopes = ["openid", "api1"]
backchannel_token_delivery_mode = "ping"
backchannel_client_notification_endpoint = "http://127.0.0.1:9/cb"

[[users]]
subject_id = "2"
username = "bob"
password_hash = "%(alice_hash)s"
[users.claims]
name = "Bob Jones"
user_code = "4242"

[[users]]
subject_id = "3"
username = "carol"
password_hash = "%(alice_hash)s"
is_active = false
"""


def ciba_builder(extra: str = "") -> IdentityServerBuilder:
    return make_builder(test_configuration(extra + CIBA_TOML % {"alice_hash": ALICE_PASSWORD_HASH}))


async def backchannel(
    server: Server, data: dict[str, Any], client_id: str = "ciba", secret: str = "secret"
) -> httpx.Response:
    return await server.client.post("/connect/ciba", data=data, auth=(client_id, secret))


async def start(server: Server, client_id: str = "ciba", **extra: Any) -> str:
    """A request for alice that the server accepted; its auth_req_id."""
    data = {"scope": "openid profile api1", "login_hint": "alice", "binding_message": "W4SCT", **extra}
    response = await backchannel(server, data, client_id)
    assert response.status_code == 200, response.text
    return str(response.json()["auth_req_id"])


async def poll(server: Server, auth_req_id: str, client_id: str = "ciba") -> httpx.Response:
    return await server.token({"grant_type": CIBA_GRANT, "auth_req_id": auth_req_id}, auth=(client_id, "secret"))


async def ciba_page(server: Server, username: str = "alice") -> tuple[Browser, httpx.Response]:
    """A fresh browser signed in as ``username``, and its /ciba page."""
    browser = Browser(server.client)
    server.client.cookies.clear()
    await sign_in(browser, username, "alice")
    page = await browser.get("/ciba")
    assert page.status_code == 200
    return browser, page


async def decide(
    server: Server, approve: bool = True, username: str = "alice", **values: str | list[str]
) -> httpx.Response:
    """Sign in as ``username`` in a fresh browser and approve (or deny) the first pending request on /ciba."""
    browser, page = await ciba_page(server, username)
    return await browser.submit(page, {"button": "yes" if approve else "no", **values})
