"""Property-based tests of the parsers and validators every request goes through: for any input they answer with
their own result or error type (never another exception), and well-formed input round-trips exactly."""

from __future__ import annotations

import asyncio
import base64
import json
from urllib.parse import quote_plus, urlencode

from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identityserver.configuration.wiring.composition import Composition
from identityserver.crypto.jwk import public_jwk
from identityserver.crypto.jwt import DecodedJws, JwtError, decode_jws, encode_jws
from identityserver.http.parameters import FormError, Parameters, parse_form
from identityserver.options import InputLengthRestrictions
from identityserver.validation.client_secrets.parsers import parse_basic_authorization
from identityserver.validation.dpop import DefaultDPoPProofValidator, DPoPProofValidationContext
from identityserver.validation.pkce import S256, is_valid_pkce_value, transform, verifier_matches
from identityserver.validation.scopes import DefaultScopeParser
from tests.support.server import make_builder

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
text = st.text(alphabet=st.characters(codec="utf-8"), max_size=200)
form_name = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20)


@FAST
@given(st.binary(max_size=1000))
def test_any_form_body_parses_or_is_a_form_error(body):
    try:
        parsed = parse_form(body)
    except FormError:
        return
    assert isinstance(parsed, Parameters)


@FAST
@given(st.lists(st.tuples(form_name, text), max_size=20))
def test_encoded_pairs_parse_back_with_repeats_reported(pairs):
    parsed = parse_form(urlencode(pairs))
    for name in dict.fromkeys(n for n, _ in pairs):
        values = [v for n, v in pairs if n == name]
        assert parsed.get(name) == values[0]
        assert parsed.get_all(name) == values
        assert (name in parsed.repeated) == (len(values) > 1)


@FAST
@given(text)
def test_any_string_is_a_jws_or_a_jwt_error(token):
    try:
        decoded = decode_jws(token)
    except JwtError:
        return
    assert isinstance(decoded, DecodedJws)


scope_token = st.text(
    alphabet=st.sampled_from([chr(c) for c in range(0x21, 0x7F) if c not in (0x22, 0x5C)]), min_size=1
)


@FAST
@given(text)
def test_any_scope_string_parses_to_its_own_tokens_or_none(scope):
    values = DefaultScopeParser().parse_scope_values(scope)
    if values is None:
        return
    names = [v.parsed_name for v in values]
    assert len(names) == len(set(names))
    assert set(names) <= set(scope.split(" "))


@FAST
@given(st.lists(scope_token, max_size=10))
def test_valid_scope_tokens_round_trip_in_order_without_duplicates(tokens):
    values = DefaultScopeParser().parse_scope_values(" ".join(tokens))
    assert values is not None
    assert [v.parsed_name for v in values] == list(dict.fromkeys(tokens))


LIMITS = InputLengthRestrictions()


@FAST
@given(text)
def test_any_authorization_header_is_a_secret_an_error_or_absent(header):
    result = parse_basic_authorization(header, LIMITS)
    assert result is None or isinstance(result, str) or result.id


@FAST
@given(
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters=":"), min_size=1, max_size=50),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
)
def test_form_encoded_basic_credentials_round_trip(client_id, secret):
    # RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined with ":" and base64-encoded
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    result = parse_basic_authorization("Basic " + base64.b64encode(raw).decode(), LIMITS)
    assert not isinstance(result, str) and result is not None
    assert (result.id, result.credential) == (client_id, secret)


verifier = st.text(
    alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"),
    min_size=43,
    max_size=128,
)


@FAST
@given(verifier, text)
def test_pkce_s256_accepts_exactly_its_own_verifier(good, other):
    challenge = transform(good, S256)
    assert is_valid_pkce_value(good) and verifier_matches(good, challenge, S256)
    if other != good and is_valid_pkce_value(other):
        assert not verifier_matches(other, challenge, S256)


KEY = ec.generate_private_key(ec.SECP256R1())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=10,
)
header_values = st.fixed_dictionaries(
    {},
    optional={
        "typ": st.sampled_from(["dpop+jwt", "JWT"]) | json_values,
        "alg": st.sampled_from(["ES256", "none", "HS256"]) | json_values,
        "jwk": st.just(public_jwk(KEY.public_key())) | json_values,
    },
)
payload_values = st.fixed_dictionaries(
    {},
    optional={
        "htm": st.sampled_from(["POST", "GET"]) | json_values,
        "htu": st.just("https://idp.example/connect/token") | json_values,
        "iat": st.integers(min_value=-(2**63), max_value=2**63) | json_values,
        "jti": text | json_values,
        "nonce": json_values,
        "ath": json_values,
    },
)


def dpop_validator() -> DefaultDPoPProofValidator:
    composition = Composition(make_builder())
    validator: DefaultDPoPProofValidator = composition.get(DefaultDPoPProofValidator)
    return validator


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header_values, payload_values)
def test_any_dpop_header_and_payload_is_validated_without_an_exception(header, payload):
    validator = dpop_validator()
    header = {**header, "alg": header.get("alg", "ES256")} if isinstance(header.get("alg", "ES256"), str) else header
    try:
        proof = encode_jws(header, payload, KEY) if header.get("alg") == "ES256" else _unsigned(header, payload)
    except (TypeError, ValueError):
        return  # not serialisable as a JWS: nothing a client could send
    context = DPoPProofValidationContext(proof, "POST", "https://idp.example/connect/token")
    result = asyncio.run(validator.validate(context))
    assert result.is_error or (result.jkt and result.payload["htm"] == "POST")


def _unsigned(header: dict[str, object], payload: dict[str, object]) -> str:
    def segment(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{segment(header)}.{segment(payload)}.c2ln"
