"""The ``Host`` allow-list for an issuer derived from the request (issue 16 item 6; RFC 9700 §4.13, ASP.NET
Core ``AllowedHosts``). Without ``issuer_uri`` the issuer is built from the ``Host`` header, so tokens would
carry an ``iss`` of the caller's choosing; only listed hosts are served."""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "[::1]")
ANY_HOST = "*"
#: A name or IPv4 literal, or a bracketed IPv6 literal, with an optional port: what a ``Host`` header may carry.
_ENTRY = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def invalid_allowed_host(entries: Iterable[str]) -> str | None:
    """The first ``allowed_hosts`` entry that is neither ``*`` nor ``host[:port]`` (``None`` when all are)."""
    for entry in entries:
        if entry != ANY_HOST and not _ENTRY.match(entry):
            return entry
    return None


def split_host(host: str) -> tuple[str, str | None]:
    """``(name, port)`` of a validated ``Host`` value (``[v6]`` kept bracketed); ``port`` is ``None`` if absent."""
    if host.startswith("[") and "]" in host:
        end = host.index("]") + 1
        return host[:end], (host[end + 1 :] or None) if host[end:].startswith(":") else None
    name, _, port = host.partition(":")
    return name, port or None


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``host`` (``name[:port]``) matches an entry: ``name`` (any port), ``name:port`` or ``*``;
    names compare case-insensitively and without a trailing dot. Empty ``allowed``: the loopback defaults."""
    entries = allowed or DEFAULT_ALLOWED_HOSTS
    if ANY_HOST in entries:
        return True
    name, port = split_host(host.lower())
    name = name.rstrip(".")
    for entry in entries:
        entry_name, entry_port = split_host(entry.lower())
        if entry_name.rstrip(".") == name and (entry_port is None or entry_port == port):
            return True
    return False
