"""security.md §1.12, back-channel logout delivery (OIDC Back-Channel Logout 1.0 §2.5, §2.8): no redirects followed,
no cookies sent, fragments refused at registration, and no requests to internal addresses chosen by a dynamically
registered client (item 110). Claims of the logout token are covered by tests/integration/test_backchannel_logout.py.
The receivers are real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from identityserver.options import DynamicClientRegistrationOptions
from tests.security.support import server_with
from tests.support.browser import Browser, obtain_code
from tests.support.receiver import LogoutReceiver


class RedirectingReceiver:
    """Answers every POST with 307 to ``target`` (a redirect that keeps the method and body)."""

    def __init__(self, target: str) -> None:
        self.requests: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.requests.append(dict(self.headers))
                self.send_response(307)
                self.send_header("location", target)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bcl"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RedirectingReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def rp_toml(uri: str) -> str:
    return f"""
[[clients]]
client_id = "rp"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://rp.example/cb"]
allowed_scopes = ["openid"]
back_channel_logout_uri = "{uri}"
"""


async def sign_out(server) -> None:
    browser = Browser(server.client)
    page = await browser.get("/connect/endsession")
    assert "Would you like to sign out?" in page.text
    done = await browser.submit(page, {"button": "yes"})
    assert "You are now signed out" in done.text
    await server.services.backchannel_logout.drain()


async def test_delivery_follows_no_redirect_and_sends_no_cookies():
    with LogoutReceiver() as internal, RedirectingReceiver(internal.url) as rp:
        async with server_with(rp_toml(rp.url)) as server:
            await obtain_code(server.client, "rp", "https://rp.example/cb", scope="openid")
            assert server.client.cookies.get("idsrv")
            await sign_out(server)
    assert len(rp.requests) == 1
    assert not any(name.lower() == "cookie" for name in rp.requests[0])
    assert internal.received == []


@pytest.mark.parametrize(
    "uri",
    [
        "https://rp.example/bcl#fragment",
        "javascript:alert(1)",
        "ftp://rp.example/bcl",
        "https://user:pass@rp.example/bcl",
    ],
)
async def test_registration_refuses_an_unusable_back_channel_logout_uri(uri):
    async with server_with(dynamic_client_registration=DynamicClientRegistrationOptions(enabled=True)) as server:
        response = await server.client.post(
            "/connect/register", json={"redirect_uris": ["https://app.example/cb"], "backchannel_logout_uri": uri}
        )
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"


async def test_dynamically_registered_client_cannot_make_the_server_post_to_a_loopback_address():
    """security.md item 110: no back-channel logout POST to an internal address chosen by an anonymous registrant."""
    with LogoutReceiver() as internal:
        async with server_with(dynamic_client_registration=DynamicClientRegistrationOptions(enabled=True)) as server:
            registered = await server.client.post(
                "/connect/register",
                json={
                    "redirect_uris": ["https://app.example/cb"],
                    "scope": "openid",
                    "backchannel_logout_uri": internal.url,
                },
            )
            if registered.status_code == 201:
                client_id = registered.json()["client_id"]
                await obtain_code(server.client, client_id, "https://app.example/cb", scope="openid")
                await sign_out(server)
    assert internal.received == [], "the server posted a logout token to an internal address"


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:6379/",
        "http://localhost:8080/admin",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/bcl",
        "https://[::1]/bcl",
    ],
)
async def test_registration_refuses_internal_back_channel_logout_uris(uri):
    """security.md items 110, 125: loopback, link-local and private back-channel URIs are refused at registration."""
    async with server_with(dynamic_client_registration=DynamicClientRegistrationOptions(enabled=True)) as server:
        response = await server.client.post(
            "/connect/register", json={"redirect_uris": ["https://app.example/cb"], "backchannel_logout_uri": uri}
        )
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"
