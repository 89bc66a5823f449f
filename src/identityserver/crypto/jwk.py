"""JSON Web Keys: loading public keys with strict checks, export, RFC 7638 thumbprints (RFC 7517, 7518 §6, 8037)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from identityserver._utils.b64 import b64url_decode, b64url_encode, b64url_to_int, int_to_b64url
from identityserver._utils.json_depth import MAX_JSON_DEPTH, nests_too_deeply

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey

PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192  # bounds the CPU an attacker-chosen key can cost (security.md item 70)

_CURVES: dict[str, tuple[ec.EllipticCurve, int]] = {
    "P-256": (ec.SECP256R1(), 32),
    "P-384": (ec.SECP384R1(), 48),
    "P-521": (ec.SECP521R1(), 66),
}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


class JwkError(ValueError):
    """A JWK is malformed, private where a public key is required, or unsupported."""


def _member(jwk: Mapping[str, Any], name: str) -> str:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise JwkError(f"JWK member '{name}' is missing or not a string")
    return value


def has_private_members(jwk: Mapping[str, Any]) -> bool:
    return any(name in jwk for name in PRIVATE_MEMBERS)


def load_public_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """Load a public key from a JWK. Private or symmetric keys, weak RSA and off-curve points are refused."""
    if not isinstance(jwk, Mapping):
        raise JwkError("JWK must be a JSON object")
    if has_private_members(jwk):
        raise JwkError("JWK contains private key material")
    kty = jwk.get("kty")
    try:
        if kty == "RSA":
            n = b64url_to_int(_member(jwk, "n"))
            e = b64url_to_int(_member(jwk, "e"))
            if not MIN_RSA_BITS <= n.bit_length() <= MAX_RSA_BITS:
                raise JwkError("RSA key size is outside 2048-8192 bits")
            if e < 3 or e % 2 == 0 or e.bit_length() > 64:
                raise JwkError("RSA public exponent is invalid")
            return rsa.RSAPublicNumbers(e, n).public_key()
        if kty == "EC":
            crv = _member(jwk, "crv")
            if crv not in _CURVES:
                raise JwkError("unsupported curve")
            curve, size = _CURVES[crv]
            x_raw, y_raw = b64url_decode(_member(jwk, "x")), b64url_decode(_member(jwk, "y"))
            if len(x_raw) != size or len(y_raw) != size:
                raise JwkError("EC coordinates have the wrong length")
            numbers = ec.EllipticCurvePublicNumbers(int.from_bytes(x_raw, "big"), int.from_bytes(y_raw, "big"), curve)
            return numbers.public_key()  # raises ValueError for a point not on the curve
        if kty == "OKP":
            crv = _member(jwk, "crv")
            x = b64url_decode(_member(jwk, "x"))
            if crv == "Ed25519":
                return ed25519.Ed25519PublicKey.from_public_bytes(x)
            if crv == "Ed448":
                return ed448.Ed448PublicKey.from_public_bytes(x)
            raise JwkError("unsupported OKP curve")
    except JwkError:
        raise
    except (ValueError, TypeError) as exc:
        raise JwkError("invalid key") from exc
    raise JwkError("unsupported key type")


def public_jwk(key: PublicKey | PrivateKey) -> dict[str, str]:
    """Export the public part of a key as a JWK (required members only)."""
    pub = key.public_key() if not isinstance(key, PublicKey) else key
    if isinstance(pub, rsa.RSAPublicKey):
        nums = pub.public_numbers()
        return {"kty": "RSA", "n": int_to_b64url(nums.n), "e": int_to_b64url(nums.e)}
    if isinstance(pub, ec.EllipticCurvePublicKey):
        crv = _CURVE_NAMES[pub.curve.name]
        size = _CURVES[crv][1]
        ec_nums = pub.public_numbers()
        return {
            "kty": "EC",
            "crv": crv,
            "x": int_to_b64url(ec_nums.x, size),
            "y": int_to_b64url(ec_nums.y, size),
        }
    if isinstance(pub, ed25519.Ed25519PublicKey):
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url_encode(pub.public_bytes(Encoding.Raw, PublicFormat.Raw)),
        }
    if isinstance(pub, ed448.Ed448PublicKey):
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return {
            "kty": "OKP",
            "crv": "Ed448",
            "x": b64url_encode(pub.public_bytes(Encoding.Raw, PublicFormat.Raw)),
        }
    raise JwkError("unsupported key type")


_REQUIRED = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint over the required members in lexicographic order, base64url."""
    kty = jwk.get("kty")
    if not isinstance(kty, str) or kty not in _REQUIRED:
        raise JwkError("cannot compute a thumbprint for this key type")
    members = {name: _member(jwk, name) for name in _REQUIRED[kty]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def parse_jwk_json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise JwkError("JWK is not valid JSON") from exc
    if not isinstance(value, dict):
        raise JwkError("JWK must be a JSON object")
    if nests_too_deeply(text, value):
        raise JwkError(f"JWK nests JSON more than {MAX_JSON_DEPTH} levels deep")
    return value
