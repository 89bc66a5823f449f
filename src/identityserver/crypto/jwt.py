"""A thin, strict JWS (compact) layer over ``cryptography`` (RFC 7515, 7518 §3, 8037; RFC 8725 BCP).

Signing is done here rather than through a JOSE library so that the token hot path does no more than
encode, sign and join. Verification pins the algorithm to the key type.

Measured against joserfc 1.8.0 (``bench/jose.py``; docs/performance.md, "JOSE: our code or joserfc"):
``jws.serialize_compact`` with cached keys adds 17.9 µs per ES256 token at the token endpoint in-process
(+22.7 %; about +8 % of the whole server's CPU per token) and 11.0 µs per RS256 token (+3.8 %); verification
costs the same; loading a JWK is 2-8 times slower. Over the issue's 5 % per token, so this code stays ours;
tests/crypto/test_jose_interop.py keeps it interchangeable with joserfc.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from identityserver._utils import json_bytes
from identityserver._utils.b64 import b64url_decode, b64url_encode
from identityserver._utils.json_depth import MAX_JSON_DEPTH, nests_too_deeply
from identityserver.crypto.jwk import PrivateKey, PublicKey

_HASH: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
_EC_SIZES = {"ES256": (32, "secp256r1"), "ES384": (48, "secp384r1"), "ES512": (66, "secp521r1")}

#: Default upper bound of any JWT this server parses (Duende ``InputLengthRestrictions.Jwt``).
MAX_JWT_LENGTH = 51200


class JwtError(ValueError):
    """A JWT could not be parsed or verified."""


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise JwtError(f"duplicate member '{key}' in JWT {what}")
            result[key] = value
        return result

    def no_constants(name: str) -> Any:
        raise JwtError(f"JWT {what} contains {name}")

    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except JwtError:
        raise
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise JwtError(f"JWT {what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise JwtError(f"JWT {what} is not a JSON object")
    if nests_too_deeply(data, value):
        raise JwtError(f"JWT {what} nests JSON more than {MAX_JSON_DEPTH} levels deep")
    return value


@dataclass(slots=True, frozen=True)
class DecodedJws:
    """The parts of a compact JWS, parsed but not yet verified."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str:
        alg = self.header.get("alg")
        return alg if isinstance(alg, str) else ""


def decode_jws(token: str, *, max_length: int = MAX_JWT_LENGTH) -> DecodedJws:
    """Split and decode a compact JWS without verifying it. Rejects JWE, oversize input and ``crit``."""
    if not isinstance(token, str) or not token:
        raise JwtError("JWT is empty")
    if len(token) > max_length:
        raise JwtError("JWT is too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise JwtError("JWT is not a compact JWS")
    try:
        header = _json_object(b64url_decode(parts[0]), "header")
        payload = _json_object(b64url_decode(parts[1]), "payload")
        signature = b64url_decode(parts[2])
    except JwtError:
        raise
    except ValueError as exc:
        raise JwtError("JWT is not valid base64url") from exc
    if "crit" in header:  # RFC 7515 §4.1.11: no extension is understood here
        raise JwtError("JWT uses critical header parameters that are not supported")
    return DecodedJws(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def _key_matches_alg(alg: str, key: PublicKey | PrivateKey) -> bool:
    if alg.startswith(("RS", "PS")):
        return isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey)
    if alg in _EC_SIZES:
        return isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) and (
            key.curve.name == _EC_SIZES[alg][1]
        )
    if alg == "EdDSA":
        return isinstance(
            key,
            ed25519.Ed25519PublicKey | ed448.Ed448PublicKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey,
        )
    return False


def verify_signature(alg: str, key: PublicKey, signing_input: bytes, signature: bytes) -> bool:
    """Verify with the algorithm pinned to the key type; ``none`` and HMAC never verify here."""
    if not _key_matches_alg(alg, key):
        return False
    try:
        if isinstance(key, rsa.RSAPublicKey):
            hash_alg = _HASH[alg[2:]]()
            if alg.startswith("RS"):
                key.verify(signature, signing_input, padding.PKCS1v15(), hash_alg)
            else:
                pss = padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=hash_alg.digest_size)
                key.verify(signature, signing_input, pss, hash_alg)
            return True
        if isinstance(key, ec.EllipticCurvePublicKey):
            size = _EC_SIZES[alg][0]
            if len(signature) != 2 * size:
                return False
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            if r == 0 or s == 0:  # CVE-2022-21449 class
                return False
            key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(_HASH[alg[2:]]()))
            return True
        key.verify(signature, signing_input)
        return True
    except (InvalidSignature, ValueError, KeyError):
        return False


def sign(alg: str, key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        hash_alg = _HASH[alg[2:]]()
        if alg.startswith("RS"):
            return key.sign(data, padding.PKCS1v15(), hash_alg)
        return key.sign(data, padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=hash_alg.digest_size), hash_alg)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = _EC_SIZES[alg][0]
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(_HASH[alg[2:]]())))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return key.sign(data)


def encode_segment(obj: Mapping[str, Any]) -> str:
    return b64url_encode(json_bytes.dumps(obj))


def encode_jws(header: Mapping[str, Any], payload: Mapping[str, Any], key: PrivateKey) -> str:
    """Sign ``payload`` with ``header['alg']``; returns the compact serialization."""
    alg = header["alg"]
    if not _key_matches_alg(alg, key):
        raise JwtError(f"key does not match algorithm {alg}")
    signing_input = f"{encode_segment(header)}.{encode_segment(payload)}"
    return f"{signing_input}.{b64url_encode(sign(alg, key, signing_input.encode('ascii')))}"


def encode_jws_with_header(header_segment: str, alg: str, payload: Mapping[str, Any], key: PrivateKey) -> str:
    """Hot-path variant of :func:`encode_jws` taking a pre-encoded header segment."""
    signing_input = f"{header_segment}.{encode_segment(payload)}"
    return f"{signing_input}.{b64url_encode(sign(alg, key, signing_input.encode('ascii')))}"


def numeric_date(value: object) -> float | None:
    """A NumericDate (RFC 7519 §2) or ``None`` when absent/invalid: bools, strings, NaN and huge values fail."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value) if isinstance(value, float) else value
    if isinstance(number, float) and not math.isfinite(number):
        return None
    if not -(2**40) < number < 2**40:
        return None
    return float(number)


def audience_values(value: object) -> list[str] | None:
    """Return ``aud`` as a list of strings, or ``None`` when it is neither a string nor a list of strings."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def alg_allowed(alg: str, allowed: Iterable[str]) -> bool:
    return alg != "none" and alg in allowed
