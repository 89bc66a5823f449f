"""Base64url without padding (RFC 7515 §2), strict on decode."""

from __future__ import annotations

import base64
import binascii
import re

_B64URL = re.compile(rb"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: str | bytes) -> bytes:
    """Decode unpadded base64url; raise ``ValueError`` on any other alphabet or a bad length."""
    raw = value.encode("ascii") if isinstance(value, str) else value
    if not _B64URL.fullmatch(raw) or len(raw) % 4 == 1:
        raise ValueError("invalid base64url")
    try:
        return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("invalid base64url") from exc


def int_to_b64url(value: int, length: int | None = None) -> str:
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return b64url_encode(value.to_bytes(size, "big"))


def b64url_to_int(value: str) -> int:
    return int.from_bytes(b64url_decode(value), "big")
