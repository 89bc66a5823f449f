"""Outbound-call safety for URLs that untrusted parties registered (dynamic registration): no loopback,
link-local, private or reserved destinations (SSRF, RFC 7591 §5; OWASP SSRF prevention)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

BLOCKED_NAMES = ("localhost",)
BLOCKED_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


def is_public_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
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
    """Resolve the host now and require every address to be public (defeats DNS names that point inward)."""
    if not is_public_https_url(url):
        return False
    parts = urlsplit(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(infos) and all(is_public_address(str(info[4][0])) for info in infos)
