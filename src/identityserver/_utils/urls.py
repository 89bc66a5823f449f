"""URL helpers (absolute-URI checks per RFC 3986, local return-URL checks)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

from identityserver.constants import ProtocolRoutePaths


def is_absolute_uri(value: str) -> bool:
    """True for an absolute URI with a scheme and an authority (no relative references)."""
    if not value or any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(parts.scheme) and bool(parts.netloc)


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def is_absolute_uri_reference(value: str) -> bool:
    """RFC 3986 §4.3 ``absolute-URI``: a scheme and a hier-part, authority optional (``urn:api1`` qualifies)."""
    return (
        bool(value)
        and bool(_SCHEME.match(value))
        and len(value) > value.index(":") + 1
        and not any(ch.isspace() or ord(ch) < 0x20 for ch in value)
    )


def has_fragment(value: str) -> bool:
    return "#" in value


def is_local_url(value: str | None) -> bool:
    """True only for a same-site path: ``/x``, never ``//host``, ``/\\host`` or control characters.

    Mirrors the hardened ``IsLocalUrl`` of Duende 6.3.10 (GHSA-ff4q-64jc-gx98).
    """
    if not value or not value.startswith("/"):
        return False
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return False
    if len(value) == 1:
        return True
    return value[1] not in ("/", "\\")


def add_query(url: str, params: dict[str, str]) -> str:
    if not params:
        return url
    sep = "&" if "?" in url else "?"
    return url + sep + urlencode(params)


def add_fragment(url: str, params: dict[str, str]) -> str:
    base = url.split("#", 1)[0]
    return base + "#" + urlencode(params)


def split_authorize_callback_url(return_url: str | None) -> tuple[dict[str, str], list[str]] | None:
    """Parameters (first of each) and ``resource`` values of a local ``.../connect/authorize/callback?...`` URL
    (any base path), else ``None``."""
    if return_url is None or not is_local_url(return_url):
        return None
    parts = urlsplit(return_url)
    if not parts.path.endswith(ProtocolRoutePaths.AUTHORIZE_CALLBACK):
        return None
    params: dict[str, str] = {}
    resources: list[str] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name == "resource":
            resources.append(value)
        elif name not in params:
            params[name] = value
    return params, resources
