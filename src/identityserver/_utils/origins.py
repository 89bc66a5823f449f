"""Web origins (RFC 6454 §4) rebuilt from a URI's parsed scheme, host and port only, so that nothing else of a
registered URI can reach a header value (a ``;`` in a host would add CSP directives, a non-Latin-1 host
cannot be encoded into a header at all). Hosts are IDNA-encoded (RFC 5891, UTS #46)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import idna

WEB_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def ascii_host(host: str) -> str | None:
    """The host as the ASCII a header may carry: a DNS name (IDNA-encoded, lower case), an IPv4 literal or a
    bracketed IPv6 literal; ``None`` for anything else (``;``, spaces, ``*``, empty labels)."""
    if not host:
        return None
    if host.startswith("[") and host.endswith("]"):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            return None
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    name = host.rstrip(".")
    try:
        encoded = idna.encode(name, uts46=True).decode("ascii") if not name.isascii() else name.lower()
    except idna.IDNAError:
        return None
    labels = encoded.split(".")
    if len(encoded) > 253 or not all(_LABEL.match(label) for label in labels):
        return None
    return encoded


def web_origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, built from its parsed parts (default port left out), or
    ``None`` when the URL has no valid web origin (other schemes, user info, an invalid host or port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in WEB_SCHEMES or "@" in parts.netloc:
        return None
    netloc = parts.netloc
    raw_host = netloc[: netloc.rindex("]") + 1] if netloc.startswith("[") and "]" in netloc else netloc.split(":")[0]
    host = ascii_host(raw_host)
    if host is None:
        return None
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"
