"""Request objects by reference (RFC 9101 §5.2, OIDC Core §6.2): off by default; when on, only a URI the client
registered, fetched through the outgoing-call guards (public https only unless configured, no redirects, size and
time limits), then validated like an object sent by value."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from identityserver.crypto.jwk import public_jwk
from identityserver.services.request_uri_fetch import JwtRequestUriFetcher, RequestUriError
from tests.support.browser import Browser, pkce_pair, redirect_parameters, sign_in
from tests.support.client_auth import client_assertion
from tests.support.data import RSA_CLIENT_KEY
from tests.support.data import test_configuration as configuration
from tests.support.server import Server, make_builder, running

CB = "https://ref.example/cb"
JWK = json.dumps({**public_jwk(RSA_CLIENT_KEY), "kid": "rsa1"})


class ObjectHost:
    """A local http server for request objects: ``documents`` by path, a log of the paths fetched."""

    def __init__(self) -> None:
        self.documents: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.fetched: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.fetched.append(self.path)
                if self.path == "/slow":
                    time.sleep(0.5)
                status, headers, body = host.documents.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def put(self, path: str, body: str, status: int = 200, **headers: str) -> str:
        self.documents[path] = (status, {"Content-Type": "application/oauth-authz-req+jwt", **headers}, body.encode())
        return self.base + path


@pytest.fixture
def host() -> Iterator[ObjectHost]:
    objects = ObjectHost()
    thread = threading.Thread(target=objects.server.serve_forever, daemon=True)
    thread.start()
    yield objects
    objects.server.shutdown()
    objects.server.server_close()


def client_toml(uris: list[str]) -> str:
    return f"""
[[clients]]
client_id = "ref"
client_secrets = ["secret", {{ type = "JWK", value = '{JWK}' }}]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{CB}"]
allowed_scopes = ["openid", "api1"]
request_uris = {json.dumps(uris)}
"""


@contextlib.asynccontextmanager
async def idp(uris: list[str], enabled: bool = True, private: bool = True) -> AsyncIterator[Server]:
    config = configuration(client_toml(uris))
    endpoints = dataclasses.replace(
        config.options.endpoints, enable_jwt_request_uri=enabled, jwt_request_uri_allow_private_network=private
    )
    options = dataclasses.replace(config.options, endpoints=endpoints)
    async with running(make_builder(config, options=options)) as server:
        yield server


def request_object(server: Server, **overrides: Any) -> str:
    _, challenge = pkce_pair()
    now = int(server.clock.timestamp())
    claims: dict[str, Any] = {
        "iss": "ref",
        "aud": server.issuer,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
        "client_id": "ref",
        "response_type": "code",
        "redirect_uri": CB,
        "scope": "openid api1",
        "state": "by-reference",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    claims.update(overrides)
    return client_assertion(RSA_CLIENT_KEY, "RS256", claims, {"kid": "rsa1"})


async def authorize(server: Server, **params: str) -> httpx.Response:
    browser = Browser(server.client)
    assert (await sign_in(browser)).status_code == 200
    return await server.client.get("/connect/authorize", params={"client_id": "ref", **params})


async def error_of(server: Server, response: httpx.Response) -> str:
    """The error page the response leads to (never the client's redirect URI)."""
    assert response.status_code == 302 and response.headers["location"].startswith("/home/error?"), response.headers
    page = await server.client.get(response.headers["location"])
    assert page.status_code == 400
    return page.text


async def test_registered_request_uri_is_fetched_and_its_object_used(host):
    uri = host.put("/good", "")
    async with idp([uri]) as server:
        host.put("/good", request_object(server))
        response = await authorize(server, request_uri=uri, state="outside")
        assert response.headers["location"].startswith(CB + "?"), response.headers["location"]
        assert redirect_parameters(response)["state"] == "by-reference"
        assert host.fetched == ["/good"]


async def test_discovery_says_request_uri_is_supported_only_when_enabled(host):
    async with idp([]) as server:
        doc = (await server.client.get("/.well-known/openid-configuration")).json()
        assert doc["request_uri_parameter_supported"] is True
    async with idp([], enabled=False) as server:
        doc = (await server.client.get("/.well-known/openid-configuration")).json()
        assert doc["request_uri_parameter_supported"] is False


async def test_disabled_request_uri_is_refused_unfetched(host):
    uri = host.put("/good", "x")
    async with idp([uri], enabled=False) as server:
        assert "request_uri_not_supported" in await error_of(server, await authorize(server, request_uri=uri))
    assert host.fetched == []


async def test_unregistered_request_uri_is_refused_unfetched(host):
    uri = host.put("/other", "x")
    async with idp([host.base + "/good"]) as server:
        assert "invalid_request_uri" in await error_of(server, await authorize(server, request_uri=uri))
    assert host.fetched == []


async def test_loopback_and_http_are_refused_unless_configured(host):
    uri = host.put("/good", "x")
    async with idp([uri, "https://127.0.0.1/x", "https://10.0.0.1/x"], private=False) as server:
        for target in (uri, "https://127.0.0.1/x", "https://10.0.0.1/x"):
            text = await error_of(server, await authorize(server, request_uri=target))
            assert "invalid_request_uri" in text
    assert host.fetched == []


async def test_redirects_are_not_followed(host):
    target = host.put("/good", "x")
    uri = host.put("/moved", "", status=302, Location=target)
    async with idp([uri]) as server:
        assert "invalid_request_uri" in await error_of(server, await authorize(server, request_uri=uri))
    assert host.fetched == ["/moved"]


@pytest.mark.parametrize(("path", "status", "size"), [("/missing", 404, 10), ("/huge", 200, 60000)])
async def test_error_status_and_oversize_content_are_refused(host, path, status, size):
    uri = host.put(path, "a" * size, status=status)
    async with idp([uri]) as server:
        assert "invalid_request_uri" in await error_of(server, await authorize(server, request_uri=uri))


async def test_fetched_object_is_validated_like_one_by_value(host):
    uri = host.put("/expired", "")
    async with idp([uri]) as server:
        host.put("/expired", request_object(server, exp=int(server.clock.timestamp()) - 600))
        assert "invalid_request_object" in await error_of(server, await authorize(server, request_uri=uri))


async def test_request_and_request_uri_together_are_refused(host):
    uri = host.put("/good", "")
    async with idp([uri]) as server:
        response = await authorize(server, request_uri=uri, request=request_object(server))
        assert "invalid_request" in await error_of(server, response)
    assert host.fetched == []


async def test_slow_host_times_out(host):
    host.put("/slow", "x")
    fetcher = JwtRequestUriFetcher(timeout=0.1, allow_private_network=True)
    outcome = await fetcher.fetch(host.base + "/slow")
    assert isinstance(outcome, RequestUriError) and outcome.error == "invalid_request_uri"


async def test_strict_validation_requires_the_jar_media_type(host):
    uri = host.put("/plain", "x.y.z", **{"Content-Type": "text/plain"})
    strict = JwtRequestUriFetcher(allow_private_network=True, strict=True)
    outcome = await strict.fetch(uri)
    assert isinstance(outcome, RequestUriError) and "oauth-authz-req+jwt" in outcome.description
    assert await JwtRequestUriFetcher(allow_private_network=True).fetch(uri) == "x.y.z"


async def test_public_host_is_called_at_the_checked_address_with_its_name():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="a.b.c", headers={"Content-Type": "application/oauth-authz-req+jwt"})

    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    fetcher = JwtRequestUriFetcher(lambda: httpx.AsyncClient(transport=httpx.MockTransport(handler)), resolve=resolve)
    assert await fetcher.fetch("https://objects.example/r/1") == "a.b.c"
    assert str(seen[0].url) == "https://93.184.216.34/r/1"
    assert seen[0].headers["host"] == "objects.example"
    assert seen[0].extensions["sni_hostname"] == "objects.example"


@pytest.mark.parametrize("addresses", [["10.0.0.7"], ["93.184.216.34", "127.0.0.1"], []])
async def test_a_name_that_resolves_inward_is_refused_uncalled(addresses):
    seen: list[httpx.Request] = []

    async def resolve(host: str, port: int) -> list[str]:
        return addresses

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="a.b.c")

    fetcher = JwtRequestUriFetcher(lambda: httpx.AsyncClient(transport=httpx.MockTransport(handler)), resolve=resolve)
    outcome = await fetcher.fetch("https://rebind.example/r")
    assert isinstance(outcome, RequestUriError) and outcome.error == "invalid_request_uri"
    assert seen == []
