"""PKCE (RFC 7636 §4.1-4.6): challenge and verifier format, S256 and plain transforms."""

from __future__ import annotations

import hashlib
import hmac
import re

from identityserver._utils.b64 import b64url_encode

S256 = "S256"
PLAIN = "plain"
_UNRESERVED = re.compile(r"^[A-Za-z0-9\-._~]+$")


def is_valid_pkce_value(value: str, min_length: int = 43, max_length: int = 128) -> bool:
    """RFC 7636 §4.1/§4.2: 43-128 characters of ``[A-Za-z0-9-._~]``."""
    return min_length <= len(value) <= max_length and bool(_UNRESERVED.match(value))


def transform(verifier: str, method: str) -> str:
    if method == S256:
        return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())
    return verifier


def verifier_matches(verifier: str, challenge: str, method: str) -> bool:
    """RFC 7636 §4.6, compared in constant time."""
    return hmac.compare_digest(transform(verifier, method).encode("ascii"), challenge.encode("ascii"))
