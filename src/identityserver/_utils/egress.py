"""Outbound-call safety for URLs that untrusted parties registered (dynamic registration): no loopback,
link-local, private or reserved destinations (SSRF, RFC 7591 §5; OWASP SSRF prevention)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BLOCKED_NAMES = ("localhost",)
BLOCKED_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


def is_public_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:
            return False  # fec0::/10, deprecated by RFC 3879 but still routed inside some networks
        # an IPv4 address carried inside (RFC 4291 §2.5.5.2 mapped, RFC 3056 §2 6to4) is where the call goes
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return is_public_address(str(embedded))
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED)
    )


_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT


def is_public_https_url(url: str) -> bool:
    """An https URL whose host is a public name or a public IP literal (checked again when calling it)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        _ = parts.port
    except ValueError:
        return False
    if parts.scheme.lower() != "https" or not host or "@" in parts.netloc:
        return False
    if host in BLOCKED_NAMES or host.endswith(BLOCKED_SUFFIXES):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "." in host
    return is_public_address(host)


async def resolves_to_public_addresses(url: str) -> bool:
    """Resolve the host now and require every address to be public (defeats DNS names that point inward). The
    call that follows resolves again: prefer :func:`pin_public_address`, which connects to the checked address."""
    if not is_public_https_url(url):
        return False
    parts = urlsplit(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(infos) and all(is_public_address(str(info[4][0])) for info in infos)


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def _resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class PinnedTarget:
    """Where to send a request so that it reaches the address that was checked (issue 16 item 7): ``url`` names
    the IP literal, ``headers`` keep the original ``Host`` and ``extensions`` the TLS server name (SNI, and the
    name the certificate is checked against). A second DNS answer can no longer point the call inward."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, Any]


async def pin_public_address(url: str, resolve: Resolver = _resolve) -> PinnedTarget | None:
    """Resolve ``url``'s host once, require every address to be public, and pin the first; ``None`` if the URL
    or any of its addresses is not public, or the name does not resolve."""
    if not is_public_https_url(url):
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or 443
    try:
        addresses = await resolve(host, port)
    except OSError:
        return None
    if not addresses or not all(is_public_address(address) for address in addresses):
        return None
    address = addresses[0].split("%", 1)[0]
    literal = f"[{address}]" if ":" in address else address
    authority = literal if parts.port is None else f"{literal}:{parts.port}"
    pinned = urlunsplit((parts.scheme, authority, parts.path, parts.query, ""))
    return PinnedTarget(pinned, {"Host": parts.netloc}, {"sni_hostname": host})
