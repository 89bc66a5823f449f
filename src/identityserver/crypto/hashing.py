"""Secret and handle hashing (Duende ``HashExtensions``, ``DefaultGrantStore.GetHashedKey``; OIDC Core §3.1.3.6)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from identityserver._utils.b64 import b64url_encode


def sha256_base64(value: str) -> str:
    """Base64 (standard alphabet) SHA-256 of the UTF-8 value: how IdentityServer stores shared secrets."""
    return base64.b64encode(hashlib.sha256(value.encode("utf-8")).digest()).decode("ascii")


def sha512_base64(value: str) -> str:
    return base64.b64encode(hashlib.sha512(value.encode("utf-8")).digest()).decode("ascii")


def shared_secret_matches(presented: str, stored: str) -> bool:
    """Compare a presented plain secret with a stored SHA-256 or SHA-512 hash in constant time."""
    # 88 characters: the base64 of 64 bytes, a SHA-512 hash
    candidate = sha512_base64(presented) if len(stored) == 88 else sha256_base64(presented)
    return hmac.compare_digest(candidate.encode("ascii"), stored.encode("utf-8", "surrogatepass"))


TIME_ORDERED_SUFFIX = "-2"
"""Ends a handle led by its issue time (``services/handles.py``); IdentityServer's own handles end ``-1``."""
ISSUE_TIME_DIGITS = 12
"""Upper-case hex digits of milliseconds since 1970 that lead a time-ordered handle (enough until the year 10889)."""
_TIME_ORDERED = re.compile(rf"[0-9A-F]{{{ISSUE_TIME_DIGITS + 64}}}{TIME_ORDERED_SUFFIX}")
_TIME_ORDERED_LENGTH = ISSUE_TIME_DIGITS + 64 + len(TIME_ORDERED_SUFFIX)


def hashed_grant_key(handle: str, grant_type: str) -> str:
    """Upper-case hex SHA-256 of ``handle:type``: the only form in which a handle reaches a store.

    A time-ordered handle's issue time, which is not secret, leads its key: new keys then arrive in the order of
    the unique ``Key`` index, and a write dirties the index's last page instead of a random one. Only digits reach
    the key from the handle, and only from a handle of exactly that form."""
    digest = hashlib.sha256(f"{handle}:{grant_type}".encode()).hexdigest().upper()
    if len(handle) == _TIME_ORDERED_LENGTH and _TIME_ORDERED.fullmatch(handle):
        return handle[:ISSUE_TIME_DIGITS] + digest
    return digest


_HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}


def left_half_hash(value: str, alg: str) -> str:
    """``at_hash`` / ``c_hash`` / ``s_hash``: base64url of the left half of the hash named by the JWS alg."""
    data = value.encode("utf-8")  # tokens and codes are ASCII; a state may not be (s_hash)
    digest = _HASHES.get(alg[-3:], hashlib.sha256)(data).digest()
    if alg == "EdDSA":  # OIDC Core errata: Ed25519 uses SHA-512
        digest = hashlib.sha512(data).digest()
    return b64url_encode(digest[: len(digest) // 2])


def sha256_b64url(value: str | bytes) -> str:
    data = value.encode("utf-8") if isinstance(value, str) else value
    return b64url_encode(hashlib.sha256(data).digest())


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url SHA-256 of the ASCII access token (RFC 9449 §4.2)."""
    return b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest())
