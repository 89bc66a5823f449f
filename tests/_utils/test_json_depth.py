"""The nesting limit of request JSON (security.md item 85), the same on every Python: 64 levels are read, 65 refused
at each place a request's JSON is parsed."""

from __future__ import annotations

import json

import pytest

from identityserver._utils.b64 import b64url_encode
from identityserver._utils.json_depth import MAX_JSON_DEPTH, nesting_depth, nests_too_deeply
from identityserver.crypto.jwk import JwkError, parse_jwk_json
from identityserver.crypto.jwt import JwtError, decode_jws
from identityserver.registration.messages import parse_metadata
from identityserver.registration.validator import RegistrationError
from identityserver.validation.claims_request import parse_claims_parameter


def nested(levels: int) -> str:
    """A JSON object ``levels`` deep: the object itself and ``levels - 1`` arrays in its member ``x``."""
    return '{"x": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"


def test_the_limit_is_system_text_jsons_default():
    assert MAX_JSON_DEPTH == 64


@pytest.mark.parametrize(
    ("value", "depth"),
    [(1, 0), ("[[", 0), ({}, 1), ([], 1), ({"a": [1, {"b": []}]}, 4), ([[], [[[]]], []], 4)],
)
def test_nesting_depth_counts_arrays_and_objects(value, depth):
    assert nesting_depth(value) == depth


def test_a_deep_value_is_walked_without_recursion():
    value: list[object] = []
    for _ in range(100_000):
        value = [value]
    assert nesting_depth(value) == MAX_JSON_DEPTH + 1  # stops as soon as the limit is passed


@pytest.mark.parametrize("as_bytes", [False, True])
def test_the_limit_is_inclusive(as_bytes):
    for levels, refused in ((MAX_JSON_DEPTH, False), (MAX_JSON_DEPTH + 1, True)):
        text = nested(levels)
        assert nests_too_deeply(text.encode() if as_bytes else text, json.loads(text)) is refused


def test_brackets_inside_strings_are_not_nesting():
    text = json.dumps({"x": "[" * 500 + "{" * 500})
    assert not nests_too_deeply(text, json.loads(text))


def _unsigned_jws(payload: str) -> str:
    header = b64url_encode(json.dumps({"alg": "ES256", "typ": "JWT"}).encode())
    return f"{header}.{b64url_encode(payload.encode())}.{b64url_encode(b'signature')}"


def test_a_jwt_payload_nested_past_the_limit_is_refused():
    assert nesting_depth(decode_jws(_unsigned_jws(nested(MAX_JSON_DEPTH))).payload) == MAX_JSON_DEPTH
    with pytest.raises(JwtError, match="more than 64 levels deep"):
        decode_jws(_unsigned_jws(nested(MAX_JSON_DEPTH + 1)))


def test_a_jwt_header_nested_past_the_limit_is_refused():
    header = b64url_encode(('{"alg": "ES256", "x": ' + "[" * 64 + "]" * 64 + "}").encode())
    token = f"{header}.{b64url_encode(b'{}')}.{b64url_encode(b'signature')}"
    with pytest.raises(JwtError, match="header nests JSON"):
        decode_jws(token)


def test_a_jwk_nested_past_the_limit_is_refused():
    jwk = '{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "extra": ' + "[" * 64 + "]" * 64 + "}"
    with pytest.raises(JwkError, match="more than 64 levels deep"):
        parse_jwk_json(jwk)
    assert parse_jwk_json(jwk.replace("[" * 64, "[" * 63).replace("]" * 64, "]" * 63))["kty"] == "EC"


def test_registration_metadata_nested_past_the_limit_is_refused():
    assert parse_metadata(nested(MAX_JSON_DEPTH).encode())["x"]
    with pytest.raises(RegistrationError) as refused:
        parse_metadata(nested(MAX_JSON_DEPTH + 1).encode())
    assert refused.value.error == "invalid_client_metadata"
    assert "64 levels" in refused.value.description


def test_a_claims_parameter_nested_past_the_limit_is_refused():
    shallow = '{"userinfo": {"email": {"values": ' + "[" * 61 + "]" * 61 + "}}}"
    accepted = parse_claims_parameter(shallow)
    assert not isinstance(accepted, str)
    assert nesting_depth(accepted.userinfo["email"].values[0]) == 60  # the array of values is the 61st
    deep = '{"userinfo": {"email": {"values": ' + "[" * 62 + "]" * 62 + "}}}"
    assert parse_claims_parameter(deep) == "claims nests JSON more than 64 levels deep"
