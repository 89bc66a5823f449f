"""Device flow test clients and helpers: a device that asks for authorization and polls, and a browser that
approves on the verification page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.models.grants import DeviceCode
from identityserver.stores.in_memory.device_flow import InMemoryDeviceFlowStore
from identityserver.stores.protocols import DeviceFlowStore
from tests.support.browser import Browser, sign_in
from tests.support.data import test_configuration
from tests.support.server import Server, make_builder, running

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

DEVICE_TOML = """
[[clients]]
client_id = "tv"
client_name = "Living-room TV"
require_client_secret = false
allowed_grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
allowed_scopes = ["openid", "profile", "api1"]
allow_offline_access = true

[[clients]]
client_id = "tv.secret"
client_name = "Kitchen display"
client_secrets = ["secret"]
allowed_grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
allowed_scopes = ["openid", "api1"]
user_code_type = "base20"
device_code_lifetime = 60

[[clients]]
client_id = "tv.other"
require_client_secret = false
allowed_grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "tv.noscopes"
require_client_secret = false
allowed_grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
"""

SECRET_AUTH = ("tv.secret", "secret")


class YieldingDeviceFlowStore:
    """Yields to the event loop around every call, so that gathered polls interleave as against a database."""

    def __init__(self, inner: InMemoryDeviceFlowStore) -> None:
        self.inner = inner

    async def _switch(self) -> None:
        await asyncio.sleep(0)

    async def store_device_authorization(self, device_code: str, user_code: str, data: DeviceCode) -> None:
        await self._switch()
        await self.inner.store_device_authorization(device_code, user_code, data)

    async def find_by_user_code(self, user_code: str) -> DeviceCode | None:
        await self._switch()
        return await self.inner.find_by_user_code(user_code)

    async def find_by_device_code(self, device_code: str) -> DeviceCode | None:
        await self._switch()
        found = await self.inner.find_by_device_code(device_code)
        await self._switch()
        return found

    async def update_by_user_code(self, user_code: str, data: DeviceCode) -> None:
        await self._switch()
        await self.inner.update_by_user_code(user_code, data)

    async def remove_by_device_code(self, device_code: str) -> None:
        await self._switch()
        await self.inner.remove_by_device_code(device_code)

    async def take_by_device_code(self, device_code: str) -> DeviceCode | None:
        await self._switch()
        taken = await self.inner.take_by_device_code(device_code)
        await self._switch()
        return taken


class NeverSlowDown:
    """A throttle that lets every poll through, so that parallel polls all reach the redemption."""

    async def should_slow_down(self, device_code: str, details: DeviceCode) -> bool:
        return False


def device_builder(extra: str = "") -> tuple[IdentityServerBuilder, InMemoryDeviceFlowStore]:
    """A builder with the device clients whose device store the test can inspect."""
    builder = make_builder(test_configuration(extra + DEVICE_TOML))
    store = InMemoryDeviceFlowStore()
    builder.add(DeviceFlowStore, YieldingDeviceFlowStore(store))
    return builder, store


@asynccontextmanager
async def device_server(extra: str = "") -> AsyncIterator[tuple[Server, InMemoryDeviceFlowStore]]:
    builder, store = device_builder(extra)
    async with running(builder) as server:
        yield server, store


async def authorize_device(
    server: Server, client_id: str = "tv", auth: tuple[str, str] | None = None, **params: str
) -> dict[str, Any]:
    data = {"client_id": client_id, **params} if auth is None else dict(params)
    response = await server.client.post("/connect/deviceauthorization", data=data, auth=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def poll(
    server: Server,
    device_code: str,
    client_id: str = "tv",
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
    **extra: str,
) -> httpx.Response:
    data = {"grant_type": DEVICE_GRANT, "device_code": device_code, **extra}
    if auth is None:
        data["client_id"] = client_id
    return await server.token(data, auth=auth, headers=headers)


def error_of(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    assert response.headers["cache-control"] == "no-store"
    error: str = response.json()["error"]
    return error


async def signed_in_browser(server: Server) -> Browser:
    browser = Browser(server.client)
    await sign_in(browser)
    return browser


async def approve(browser: Browser, user_code: str, scopes: list[str] | None = None) -> httpx.Response:
    """Open the verification page for the code and press yes (optionally with only ``scopes`` ticked)."""
    page = await browser.get(f"/device?{httpx.QueryParams({'userCode': user_code})}")
    assert page.status_code == 200, page.text
    values: dict[str, str | list[str]] = {"button": "yes", "user_code": user_code}  # text inputs are not parsed
    if scopes is not None:
        values["scopes_consented"] = scopes
    return await browser.submit(page, values)
