"""What a code redemption records as issued (so that a replay can revoke it): the ``jti`` and ``exp`` of the JWT
access token are read back from the token just signed, without the checks an incoming JWT gets."""

from __future__ import annotations

import base64
import json

import pytest

from identityserver.response_handling.token import _own_jwt_payload


def segment(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_the_claims_of_a_signed_jwt_are_read() -> None:
    jwt = f"{segment({'alg': 'RS256'})}.{segment({'jti': 'J1', 'exp': 1700000000, 'scope': ['a']})}.c2ln"
    assert _own_jwt_payload(jwt) == {"jti": "J1", "exp": 1700000000, "scope": ["a"]}


@pytest.mark.parametrize(
    "token",
    [
        "opaque-reference-handle",
        "a.b",
        f"{segment({})}.!!notbase64.sig",
        f"{segment({})}.{segment(['not', 'an', 'object'])}.sig",
        f"{segment({})}.{base64.urlsafe_b64encode(b'{not json').rstrip(b'=').decode()}.sig",
        "",
    ],
)
def test_anything_else_reads_as_no_claims(token: str) -> None:
    assert _own_jwt_payload(token) == {}
