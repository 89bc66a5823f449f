"""Running behind a reverse proxy (ASP.NET Core ``UseForwardedHeaders``): a pure-ASGI middleware that takes the
client address, scheme and host from ``Forwarded`` (RFC 7239) or ``X-Forwarded-For`` / ``-Proto`` / ``-Host``,
but only when the direct peer is one of ``options.forwarded_headers.trusted_proxies``.

It rewrites ``scope["client"]``, ``scope["scheme"]`` and the ``host`` header before anything else reads them, so
the protocol endpoints (``remote_ip``, the issuer derived from the request) and the UI (the login throttle, events)
see the same values. The direct peer stays available as ``scope[DIRECT_PEER]`` (see :func:`direct_peer`) for
checks that must trust the connection itself, not what it forwarded."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from identityserver.options import ForwardedHeadersOptions

if TYPE_CHECKING:  # the loader imports this module to check the option: keep it light
    from identityserver.hosting.middleware import ASGIApp, Receive, Scope, Send

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DIRECT_PEER = "identityserver.direct_peer"
"""Scope key: the ``(host, port)`` of the TCP peer, as the ASGI server reported it."""

_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_SCHEMES = frozenset({"http", "https"})
# RFC 7230 §3.2.6 token characters, for the unquoted values of RFC 7239 §4
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def invalid_trusted_proxy(values: Iterable[str]) -> str | None:
    """The first entry that is neither an address nor a network (``None`` when all are)."""
    for value in values:
        try:
            ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            return value
    return None


def parse_trusted_proxies(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Addresses (``10.0.0.7``, ``::1``) and networks (``10.0.0.0/8``) -> networks; ``ValueError`` names a bad
    entry."""
    values = list(values)
    bad = invalid_trusted_proxy(values)
    if bad is not None:
        raise ValueError(f"trusted_proxies: {bad!r} is not an IP address or network")
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


@dataclass(frozen=True, slots=True)
class Hop:
    """What one proxy reported: the address it received the request from, and the scheme and host it saw."""

    client: str | None
    scheme: str | None = None
    host: str | None = None


def _split(value: str, separator: str) -> list[str]:
    """Split on ``separator`` outside quoted strings (RFC 7230 §3.2.6 ``quoted-string`` with ``\\`` escapes)."""
    parts, current, quoted, escaped = [], [], False, False
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
        elif quoted and char == "\\":
            current.append(char)
            escaped = True
        elif char == '"':
            current.append(char)
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str | None:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value if _TOKEN.fullmatch(value) else None


def parse_forwarded(values: Sequence[str]) -> list[Hop] | None:
    """The elements of ``Forwarded`` header lines (RFC 7239 §4), left (first proxy) to right (last); ``None``
    when the header is malformed, so that nothing of it is used."""
    hops = []
    for element in _split(", ".join(values), ","):
        if not element.strip():
            continue
        params: dict[str, str] = {}
        for pair in _split(element, ";"):
            if not pair.strip():
                continue
            name, sep, raw = pair.partition("=")
            value = _unquote(raw) if sep else None
            key = name.strip().lower()
            if value is None or not _TOKEN.fullmatch(key) or key in params:
                return None  # §4: each parameter at most once per element
            params[key] = value
        hops.append(Hop(params.get("for"), params.get("proto"), params.get("host")))
    return hops


def _values(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> list[str]:
    joined = ",".join(v.decode("latin-1") for n, v in headers if n == name)
    return [part.strip() for part in joined.split(",")] if joined else []


def parse_x_forwarded(headers: Sequence[tuple[bytes, bytes]]) -> list[Hop]:
    """``X-Forwarded-For`` entries with the ``-Proto`` and ``-Host`` entries aligned from the right (each proxy
    appends); when those lists are shorter, the entries without a value of their own take the left-most one."""
    addresses = _values(headers, b"x-forwarded-for")
    protos = _values(headers, b"x-forwarded-proto")
    hosts = _values(headers, b"x-forwarded-host")
    if not addresses and (protos or hosts):  # a TLS terminator may send only the scheme
        return [Hop(None, protos[-1] if protos else None, hosts[-1] if hosts else None)]
    hops = []
    for index in range(len(addresses)):
        from_right = len(addresses) - index
        proto = protos[-from_right] if len(protos) >= from_right else (protos[0] if protos else None)
        host = hosts[-from_right] if len(hosts) >= from_right else (hosts[0] if hosts else None)
        hops.append(Hop(addresses[index], proto, host))
    return hops


def parse_node(node: str | None) -> tuple[IPAddress, int] | None:
    """An RFC 7239 §6 node (``192.0.2.43``, ``192.0.2.43:47011``, ``[2001:db8::17]:4711``) -> address and port
    (0 when absent); ``None`` for ``unknown``, obfuscated identifiers and anything malformed."""
    if not node:
        return None
    node = node.strip()
    port = "0"
    if node.startswith("["):
        address, sep, rest = node[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] or "0"
    elif node.count(":") == 1:
        address, _, port = node.partition(":")
    else:
        address = node  # IPv4, or a bare IPv6 address (X-Forwarded-For of some proxies)
    if not (port.isascii() and port.isdigit()) or int(port) > 65535:
        return None  # obfuscated ports (``_abc``) carry no number
    try:
        return ipaddress.ip_address(address), int(port)
    except ValueError:
        return None


def _trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


@dataclass(frozen=True, slots=True)
class Resolved:
    client: tuple[str, int] | None
    scheme: str | None
    host: str | None


def resolve(peer: IPAddress, hops: Sequence[Hop], networks: tuple[IPNetwork, ...]) -> Resolved | None:
    """The client, scheme and host the outermost trusted proxy reported (``None`` when ``peer`` is untrusted or
    there is nothing to use).

    The right-most hop was written by the peer; each hop further left was written by the address the hop to its
    right names. Walking from the right, the first untrusted address is the client: anything left of it may be
    forged. A hop whose address is ``unknown`` or obfuscated ends the walk: its scheme and host are still the
    word of a trusted proxy, but the client address stays the proxy's."""
    if not hops or not _trusted(peer, networks):
        return None
    client: tuple[str, int] | None = None
    chosen = hops[-1]
    for hop in reversed(hops):
        chosen = hop
        node = parse_node(hop.client)
        if node is None:
            break
        client = (str(node[0]), node[1])
        if not _trusted(node[0], networks):
            break
    scheme = chosen.scheme.lower() if chosen.scheme and chosen.scheme.lower() in _SCHEMES else None
    host = chosen.host if chosen.host and _HOST.match(chosen.host) else None
    return Resolved(client, scheme, host)


def direct_peer(scope: Scope) -> tuple[str, int] | None:
    """The TCP peer of the request, whatever forwarded headers said (e.g. to decide whether to honour a header
    that only a trusted proxy may set)."""
    peer = scope.get(DIRECT_PEER, scope.get("client"))
    return (str(peer[0]), int(peer[1])) if peer else None


class ForwardedHeadersMiddleware:
    """Applies forwarded headers from trusted proxies; passes every other request on untouched (the headers
    themselves are left in place, so an untrusted peer's values are ignored, never interpreted)."""

    def __init__(self, app: ASGIApp, options: ForwardedHeadersOptions) -> None:
        self.app = app
        self.networks = parse_trusted_proxies(options.trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.networks:
            scope = self.apply(scope)
        await self.app(scope, receive, send)

    def apply(self, scope: Scope) -> Scope:
        peer = scope.get("client")
        if not peer:
            return scope
        try:
            address = ipaddress.ip_address(peer[0])
        except ValueError:
            return scope  # a Unix socket path or a test client name: not an address that can be trusted
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
        lines = [v.decode("latin-1") for n, v in headers if n == b"forwarded"]
        # RFC 7239 standardizes what the X-Forwarded-* headers approximated (§1): when it is present it is read
        # alone, so that two header families cannot be played against each other; malformed, it counts for nothing
        hops = parse_forwarded(lines) if lines else parse_x_forwarded(headers)
        resolved = resolve(address, hops or [], self.networks)
        if resolved is None:
            return scope
        scope = dict(scope)
        scope[DIRECT_PEER] = peer
        if resolved.client is not None:
            scope["client"] = resolved.client
        if resolved.scheme is not None:
            websocket = scope["type"] == "websocket"
            scope["scheme"] = {"http": "ws", "https": "wss"}[resolved.scheme] if websocket else resolved.scheme
        if resolved.host is not None:
            host = resolved.host.encode("latin-1")
            scope["headers"] = [(n, v) for n, v in headers if n != b"host"] + [(b"host", host)]
        return scope
