"""Forwarded headers (RFC 7239 ``Forwarded``, ``X-Forwarded-*``): honoured from trusted proxies only, and seen the
same way by the protocol endpoints (issuer, events) and the UI (login throttle)."""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import urlencode

import httpx
import pytest

from identityserver.events.base import Event
from identityserver.hosting.app import create_app
from identityserver.hosting.forwarded import (
    Hop,
    parse_forwarded,
    parse_node,
    parse_trusted_proxies,
    parse_x_forwarded,
    resolve,
)
from identityserver.options import EventsOptions, ForwardedHeadersOptions
from identityserver.services.protocols import LoginThrottle
from identityserver.ui import create_ui
from tests.support.browser import forms
from tests.support.server import Server, make_builder, running

PROXY = "10.0.0.5"
OUTSIDER = "198.51.100.9"


class RecordingThrottle:
    """Records the address every login attempt is counted under."""

    def __init__(self) -> None:
        self.addresses: list[str] = []

    async def blocked(self, username: str, address: str) -> bool:
        self.addresses.append(address)
        return False

    async def failed(self, username: str, address: str) -> None:
        pass

    async def succeeded(self, username: str, address: str) -> None:
        pass


class RecordingSink:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def persist(self, event: Event) -> None:
        self.events.append(event)


@contextlib.asynccontextmanager
async def behind(
    peer: str, trusted: tuple[str, ...] = ("10.0.0.0/8",), issuer: str | None = None
) -> AsyncIterator[tuple[Server, httpx.AsyncClient, RecordingThrottle, RecordingSink]]:
    """A server trusting ``trusted`` and a client whose requests arrive from ``peer``."""
    throttle, sink = RecordingThrottle(), RecordingSink()
    builder = make_builder(issuer=issuer)
    builder.options = replace(
        builder.options,
        forwarded_headers=ForwardedHeadersOptions(trusted_proxies=trusted),
        events=EventsOptions(raise_failure_events=True),
        allowed_hosts=("*",),  # these tests are about which hosts are believed, not which are served
    )
    builder.add(LoginThrottle, throttle)
    builder.add_event_sink(sink)
    async with running(builder) as server:
        app = create_app(server.services, create_ui(server.services))
        transport = httpx.ASGITransport(app=app, client=(peer, 41000))
        async with httpx.AsyncClient(transport=transport, base_url="http://internal:8080") as client:
            yield server, client, throttle, sink


async def login_address(client: httpx.AsyncClient, throttle: RecordingThrottle, headers: dict[str, str]) -> str:
    page = await client.get("/account/login", headers=headers)
    form = forms(page.text)[0]
    values = {"username": "alice", "password": "wrong", "button": "login"}
    data = [(n, v) for n, v in form.fields if n not in values] + list(values.items())
    response = await client.post(
        form.action,
        content=urlencode(data),
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400, response.text
    return throttle.addresses[-1]


async def token_failure_address(client: httpx.AsyncClient, sink: RecordingSink, headers: dict[str, str]) -> str:
    response = await client.post(
        "/connect/token",
        data={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"},
        headers=headers,
    )
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"
    address = sink.events[-1].remote_ip_address
    assert address is not None
    return address


async def test_a_spoofed_x_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    spoofed = {"X-Forwarded-For": "192.0.2.1", "Forwarded": "for=192.0.2.2"}
    async with behind(OUTSIDER) as (_, client, throttle, sink):
        assert await login_address(client, throttle, spoofed) == OUTSIDER
        assert await token_failure_address(client, sink, spoofed) == OUTSIDER


async def test_the_client_address_comes_from_a_trusted_proxy() -> None:
    async with behind(PROXY) as (_, client, throttle, sink):
        # the right-most untrusted address: 192.0.2.1 may be forged by the client, 203.0.113.50 was added by
        # 10.0.0.9 (trusted) and names who connected to it
        headers = {"X-Forwarded-For": "192.0.2.1, 203.0.113.50, 10.0.0.9"}
        assert await login_address(client, throttle, headers) == "203.0.113.50"
        assert await token_failure_address(client, sink, headers) == "203.0.113.50"
        # two users behind the same proxy are two addresses, so two throttles
        assert await login_address(client, throttle, {"X-Forwarded-For": "203.0.113.51"}) == "203.0.113.51"
        # without the headers the peer is the client
        assert await login_address(client, throttle, {}) == PROXY


async def test_forwarded_header_from_a_trusted_proxy() -> None:
    async with behind(PROXY) as (_, client, throttle, sink):
        # (no proto=https here: the test client would then withhold the Secure antiforgery cookie)
        headers = {"Forwarded": 'for="[2001:db8:cafe::17]:4711", for=10.0.0.9'}
        assert await login_address(client, throttle, headers) == "2001:db8:cafe::17"
        assert await token_failure_address(client, sink, headers) == "2001:db8:cafe::17"


async def test_issuer_honours_forwarded_proto_and_host_only_from_a_trusted_proxy() -> None:
    headers = {"X-Forwarded-For": "192.0.2.1", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "idp.example.com"}
    async with behind(PROXY) as (_, client, _throttle, _sink):
        trusted = (await client.get("/.well-known/openid-configuration", headers=headers)).json()
        rfc = {"Forwarded": 'for=192.0.2.1;proto=https;host="login.example.org"'}
        via_forwarded = (await client.get("/.well-known/openid-configuration", headers=rfc)).json()
    async with behind(OUTSIDER) as (_, client, _throttle, _sink):
        untrusted = (await client.get("/.well-known/openid-configuration", headers=headers)).json()
    assert trusted["issuer"] == "https://idp.example.com"
    assert trusted["token_endpoint"] == "https://idp.example.com/connect/token"
    assert via_forwarded["issuer"] == "https://login.example.org"
    assert untrusted["issuer"] == "http://internal:8080"


async def test_a_configured_issuer_wins_over_forwarded_scheme_and_host() -> None:
    headers = {"X-Forwarded-For": "192.0.2.1", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example"}
    async with behind(PROXY, issuer="https://idp.example") as (_, client, _throttle, _sink):
        document = (await client.get("/.well-known/openid-configuration", headers=headers)).json()
    assert document["issuer"] == "https://idp.example"


async def test_the_ui_sees_the_forwarded_scheme_and_host() -> None:
    headers = {"X-Forwarded-For": "192.0.2.1", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "idp.example.com"}
    async with behind(PROXY) as (_, client, _throttle, _sink):
        page = await client.get("/account/login", headers=headers)
    async with behind(OUTSIDER) as (_, client, _throttle, _sink):
        spoofed = await client.get("/account/login", headers=headers)
    cookies = page.headers.get_list("set-cookie")
    # the antiforgery cookie is Secure when the browser's side of the proxy is https
    assert cookies and all("secure" in cookie.lower() for cookie in cookies)
    assert not any("secure" in cookie.lower() for cookie in spoofed.headers.get_list("set-cookie"))


async def test_no_trusted_proxies_means_every_header_is_ignored() -> None:
    headers = {"X-Forwarded-For": "192.0.2.1", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "a.example"}
    async with behind("127.0.0.1", trusted=()) as (_, client, throttle, _sink):
        assert await login_address(client, throttle, headers) == "127.0.0.1"
        document = (await client.get("/.well-known/openid-configuration", headers=headers)).json()
    assert document["issuer"] == "http://internal:8080"


# -- parsing -----------------------------------------------------------------------------------------------


def test_forwarded_parsing_quoted_ipv6_and_several_hops() -> None:
    hops = parse_forwarded(
        [
            'for=192.0.2.43;proto=https;host="idp.example:8443", For="[2001:db8:cafe::17]:4711"',
            "for=10.0.0.9;by=10.0.0.5",
        ]
    )
    assert hops == [
        Hop("192.0.2.43", "https", "idp.example:8443"),
        Hop("[2001:db8:cafe::17]:4711", None, None),
        Hop("10.0.0.9", None, None),
    ]
    assert parse_forwarded(['for="_hidden, with comma";proto=http']) == [Hop("_hidden, with comma", "http", None)]
    assert parse_forwarded(['for="a\\"b"']) == [Hop('a"b')]


@pytest.mark.parametrize(
    "value",
    ["for", "for=1.2.3.4;for=5.6.7.8", "for=[2001:db8::1]", 'for="unterminated', "fo r=1.2.3.4"],
)
def test_malformed_forwarded_is_not_used(value: str) -> None:
    assert parse_forwarded([value]) is None


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ("192.0.2.43", ("192.0.2.43", 0)),
        ("192.0.2.43:47011", ("192.0.2.43", 47011)),
        ("[2001:db8:cafe::17]:4711", ("2001:db8:cafe::17", 4711)),
        ("[2001:db8:cafe::17]", ("2001:db8:cafe::17", 0)),
        ("2001:db8:cafe::17", ("2001:db8:cafe::17", 0)),
        ("unknown", None),
        ("_hidden", None),
        ("192.0.2.43:_port", None),
        ("[2001:db8::1]x", None),
        ("999.0.0.1", None),
        (None, None),
    ],
)
def test_node_parsing(node: str | None, expected: tuple[str, int] | None) -> None:
    parsed = parse_node(node)
    assert (None if parsed is None else (str(parsed[0]), parsed[1])) == expected


def test_resolve_walks_from_the_right_past_trusted_hops_only() -> None:
    networks = parse_trusted_proxies(["10.0.0.0/8", "::1"])
    proxy = ipaddress.ip_address("10.0.0.5")
    hops = [Hop("192.0.2.1", "http", "forged.example"), Hop("203.0.113.5", "https", "idp.example"), Hop("10.1.2.3")]
    resolved = resolve(proxy, hops, networks)
    assert resolved is not None
    assert resolved.client == ("203.0.113.5", 0)
    assert (resolved.scheme, resolved.host) == ("https", "idp.example")
    # an untrusted peer: nothing at all
    assert resolve(ipaddress.ip_address("203.0.113.9"), hops, networks) is None
    # every hop trusted: the left-most address
    all_trusted = resolve(proxy, [Hop("10.9.9.9"), Hop("10.1.1.1")], networks)
    assert all_trusted is not None and all_trusted.client == ("10.9.9.9", 0)
    # an obfuscated client: scheme and host still apply, the address stays the proxy's
    hidden = resolve(proxy, [Hop("_abc", "https", "idp.example")], networks)
    assert hidden is not None and hidden.client is None and hidden.scheme == "https"
    # IPv4-mapped IPv6 peers match IPv4 networks; bad schemes and hosts are dropped
    mapped = resolve(ipaddress.ip_address("::ffff:10.0.0.5"), [Hop("192.0.2.1", "gopher", "bad host/")], networks)
    assert mapped is not None and mapped.client == ("192.0.2.1", 0)
    assert (mapped.scheme, mapped.host) == (None, None)


def test_x_forwarded_lists_are_aligned_from_the_right() -> None:
    headers = [
        (b"x-forwarded-for", b"192.0.2.1, 203.0.113.5"),
        (b"x-forwarded-for", b"10.1.2.3"),
        (b"x-forwarded-proto", b"http, https"),
        (b"x-forwarded-host", b"idp.example"),
    ]
    assert parse_x_forwarded(headers) == [
        Hop("192.0.2.1", "http", "idp.example"),
        Hop("203.0.113.5", "http", "idp.example"),
        Hop("10.1.2.3", "https", "idp.example"),
    ]
    assert parse_x_forwarded([(b"x-forwarded-proto", b"https")]) == [Hop(None, "https", None)]


def test_bad_trusted_proxy_entries_are_refused() -> None:
    with pytest.raises(ValueError, match=re.escape("'10.0.0.300' is not an IP address or network")):
        parse_trusted_proxies(["10.0.0.300"])
    assert [str(n) for n in parse_trusted_proxies(["10.0.0.7", "10.0.0.0/8", "::1"])] == [
        "10.0.0.7/32",
        "10.0.0.0/8",
        "::1/128",
    ]


def test_the_configuration_file_names_a_bad_trusted_proxy() -> None:
    from identityserver.configuration.loader import ConfigError, parse_configuration

    section = {"options": {"forwarded_headers": {"trusted_proxies": ["10.0.0.0/8", "proxy.internal"]}}}
    with pytest.raises(ConfigError) as caught:
        parse_configuration(section, "c.toml")
    assert str(caught.value) == (
        "c.toml: [options.forwarded_headers]: field \"trusted_proxies\": 'proxy.internal' is not an IP address"
    )
    section = {"options": {"forwarded_headers": {"trusted_proxies": ["10.0.0.0/8", "fd00::/8"]}}}
    loaded = parse_configuration(section, "c.toml").options.forwarded_headers
    assert loaded.trusted_proxies == ("10.0.0.0/8", "fd00::/8")
