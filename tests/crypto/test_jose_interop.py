"""Our JWS and JWK code (``crypto/jwt.py``, ``crypto/jwk.py``) against joserfc, in both directions: the library
the JOSE issue measured them against (docs/performance.md, "JOSE: our code or joserfc"). Tokens either side
signs verify on the other, RS256 output is byte-identical, JWKs and RFC 7638 thumbprints are the same."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc import jwk as jjwk
from joserfc import jws as jjws
from joserfc.errors import BadSignatureError

from identityserver.crypto.jwk import PrivateKey, PublicKey, jwk_thumbprint, load_public_jwk, public_jwk
from identityserver.crypto.jwt import decode_jws, encode_jws, encode_jws_with_header, encode_segment, verify_signature

#: RFC 7638 §3.1: the example key (RFC 7517 Appendix A.1) and its SHA-256 thumbprint.
RFC7638_JWK: dict[str, Any] = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3"
    "oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu"
    "6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awap"
    "JzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

# joserfc 1.8 warns on "EdDSA" (RFC 9864 prefers "Ed25519"); discovery still announces "EdDSA"
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")

PAYLOAD = {
    "iss": "https://idp.example",
    "nbf": 1767225600,
    "iat": 1767225600,
    "exp": 1767229200,
    "aud": "urn:api1",
    "scope": "api1",
    "client_id": "client",
    "jti": "9F2C4E0A1B3D5F7E9A8C6B4D2F0E1A3C",
}

ALGORITHMS = {
    "RS256": "rsa",
    "RS384": "rsa",
    "RS512": "rsa",
    "PS256": "rsa",
    "PS384": "rsa",
    "PS512": "rsa",
    "ES256": "p256",
    "ES384": "p384",
    "ES512": "p521",
    "EdDSA": "ed25519",
}


@pytest.fixture(scope="module")
def keys() -> dict[str, PrivateKey]:
    return {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "p256": ec.generate_private_key(ec.SECP256R1()),
        "p384": ec.generate_private_key(ec.SECP384R1()),
        "p521": ec.generate_private_key(ec.SECP521R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
    }


def joserfc_key(key: PrivateKey | PublicKey) -> jjwk.Key:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return jjwk.RSAKey.import_key(key)
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return jjwk.ECKey.import_key(key)
    return jjwk.OKPKey.import_key(key)


def header(alg: str) -> dict[str, str]:
    return {"alg": alg, "kid": "k1", "typ": "at+jwt"}


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_our_token_verifies_with_joserfc(keys: dict[str, PrivateKey], alg: str) -> None:
    key = keys[ALGORITHMS[alg]]
    token = encode_jws(header(alg), PAYLOAD, key)
    obj = jjws.deserialize_compact(token, joserfc_key(key.public_key()), algorithms=[alg])
    assert obj.protected == header(alg)
    assert json.loads(obj.payload) == PAYLOAD


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_joserfc_token_verifies_with_ours(keys: dict[str, PrivateKey], alg: str) -> None:
    key = keys[ALGORITHMS[alg]]
    token = jjws.serialize_compact(header(alg), json.dumps(PAYLOAD), joserfc_key(key), algorithms=[alg])
    jws = decode_jws(token)
    assert (jws.alg, jws.header, jws.payload) == (alg, header(alg), PAYLOAD)
    assert verify_signature(alg, key.public_key(), jws.signing_input, jws.signature)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_a_tampered_signature_fails_on_both_sides(keys: dict[str, PrivateKey], alg: str) -> None:
    key = keys[ALGORITHMS[alg]]
    token = encode_jws(header(alg), PAYLOAD, key)
    signing_input, _, signature = token.rpartition(".")
    tampered = f"{signing_input}.{('A' if signature[0] != 'A' else 'B')}{signature[1:]}"
    with pytest.raises(BadSignatureError):
        jjws.deserialize_compact(tampered, joserfc_key(key.public_key()), algorithms=[alg])
    jws = decode_jws(tampered)
    assert not verify_signature(alg, key.public_key(), jws.signing_input, jws.signature)


def test_access_token_is_byte_identical_to_joserfc_for_rs256(keys: dict[str, PrivateKey]) -> None:
    """RSASSA-PKCS1-v1_5 is deterministic: the hot path (cached header segment) and joserfc agree on every byte."""
    key = keys["rsa"]
    ours = encode_jws_with_header(encode_segment(header("RS256")), "RS256", PAYLOAD, key)
    payload = json.dumps(PAYLOAD, separators=(",", ":")).encode()
    assert ours == jjws.serialize_compact(header("RS256"), payload, joserfc_key(key), algorithms=["RS256"])


def test_none_hmac_and_mismatched_keys_never_verify(keys: dict[str, PrivateKey]) -> None:
    """What our allow-list refuses whatever the signature: ``none``, HMAC over a public key, a key of another
    type or curve than ``alg`` names."""
    token = encode_jws(header("ES256"), PAYLOAD, keys["p256"])
    jws = decode_jws(token)
    assert not verify_signature("none", keys["p256"].public_key(), jws.signing_input, b"")
    assert not verify_signature("HS256", keys["rsa"].public_key(), jws.signing_input, jws.signature)
    assert not verify_signature("ES384", keys["p256"].public_key(), jws.signing_input, jws.signature)
    assert not verify_signature("RS256", keys["p256"].public_key(), jws.signing_input, jws.signature)
    assert verify_signature("ES256", keys["p256"].public_key(), jws.signing_input, jws.signature)


def test_thumbprint_of_the_rfc7638_example() -> None:
    assert jwk_thumbprint(RFC7638_JWK) == RFC7638_THUMBPRINT
    assert jjwk.RSAKey.import_key(RFC7638_JWK).thumbprint() == RFC7638_THUMBPRINT


@pytest.mark.parametrize("name", ["rsa", "p256", "p384", "p521", "ed25519"])
def test_public_jwk_and_thumbprint_agree_with_joserfc(keys: dict[str, PrivateKey], name: str) -> None:
    key = keys[name]
    theirs = joserfc_key(key.public_key())
    jwk = public_jwk(key)
    assert jwk == theirs.as_dict()
    assert jwk_thumbprint({**jwk, "kid": "k1", "use": "sig", "alg": "whatever"}) == theirs.thumbprint()
    assert public_jwk(load_public_jwk(theirs.as_dict())) == jwk
