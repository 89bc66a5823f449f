"""The upstream ID token checks (OIDC Core §3.1.3.7) against a mock upstream over httpx: discovery, JWKS with
``kid`` lookup, a refetch when a rotated key appears, and every claim check."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from identityserver._utils.b64 import b64url_encode
from identityserver.crypto.hashing import left_half_hash
from identityserver.crypto.jwk import public_jwk
from identityserver.crypto.jwt import encode_jws, encode_segment
from identityserver.models.identity_providers import IdentityProvider, oidc_provider
from identityserver.services.upstream_oidc import MIN_JWKS_REFRESH, UpstreamError, UpstreamOidcClient
from identityserver.validation.upstream_id_token import UpstreamTokenError, validate_upstream_id_token
from tests.support.clock import FakeClock

AUTHORITY = "https://up.example"
PROVIDER = oidc_provider(
    IdentityProvider("corp", properties={"Authority": AUTHORITY, "ClientId": "me", "ResponseType": "code"})
)


class MockUpstream:
    def __init__(self) -> None:
        self.keys = {"k1": ec.generate_private_key(ec.SECP256R1())}
        self.published = ["k1"]
        self.jwks_fetches = 0
        self.issuer = AUTHORITY

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{AUTHORITY}/authorize",
                    "token_endpoint": f"{AUTHORITY}/token",
                    "jwks_uri": f"{AUTHORITY}/jwks",
                    "id_token_signing_alg_values_supported": ["ES256", "HS256"],
                },
            )
        self.jwks_fetches += 1
        keys = [{**public_jwk(self.keys[kid].public_key()), "kid": kid, "alg": "ES256"} for kid in self.published]
        return httpx.Response(200, json={"keys": keys})

    def token(self, kid: str = "k1", **claims: Any) -> str:
        now = FakeClock().timestamp()
        payload = {"iss": AUTHORITY, "aud": "me", "sub": "u1", "iat": now, "exp": now + 300, "nonce": "n1", **claims}
        return encode_jws({"alg": "ES256", "kid": kid}, payload, self.keys[kid])


@pytest.fixture
def upstream() -> MockUpstream:
    return MockUpstream()


def client(mock: MockUpstream, clock: FakeClock) -> UpstreamOidcClient:
    return UpstreamOidcClient(clock, 3600, lambda: httpx.AsyncClient(transport=httpx.MockTransport(mock.handler)))


async def check(mock: MockUpstream, token: str, clock: FakeClock | None = None, **kwargs: Any) -> dict[str, Any]:
    clock = clock or FakeClock()
    upstream = client(mock, clock)
    metadata = await upstream.metadata(PROVIDER)
    return await validate_upstream_id_token(token, PROVIDER, metadata, upstream, "n1", clock.timestamp(), **kwargs)


async def test_a_valid_token_passes_with_its_hashes(upstream: MockUpstream) -> None:
    code, access = "the-code", "the-access-token"
    token = upstream.token(c_hash=left_half_hash(code, "ES256"), at_hash=left_half_hash(access, "ES256"))
    claims = await check(upstream, token, code=code, access_token=access)
    assert claims["sub"] == "u1"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iss": "https://other.example"}, "iss"),
        ({"aud": "someone-else"}, "aud"),
        ({"aud": ["me", "other"]}, "azp"),
        ({"aud": ["me", "other"], "azp": "other"}, "azp"),
        ({"exp": 1}, "expired"),
        ({"iat": 4102444800}, "iat"),
        ({"iat": None}, "iat"),
        ({"nonce": "replayed"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"sub": ""}, "sub"),
        ({"sub": "x" * 401}, "sub"),
        ({"c_hash": "wrong"}, "c_hash"),
    ],
)
async def test_each_claim_is_checked(upstream: MockUpstream, claims: dict[str, Any], reason: str) -> None:
    token = upstream.token(**claims)
    with pytest.raises(UpstreamTokenError, match=reason):
        await check(upstream, token, code="the-code")


async def test_foreign_keys_algorithms_and_malformed_tokens_are_refused(upstream: MockUpstream) -> None:
    foreign = MockUpstream()  # signed by another provider's key under a kid we know
    with pytest.raises(UpstreamTokenError, match="signature"):
        await check(upstream, foreign.token())
    good = upstream.token()
    header, payload, _ = good.split(".")
    with pytest.raises(UpstreamTokenError, match="signature"):
        await check(upstream, f"{header}.{payload}.AAAA")
    for token in ("not-a-jwt", "", "a.b", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9."):
        with pytest.raises(UpstreamTokenError):
            await check(upstream, token)
    # HS256 keyed with something the attacker knows: announced by the upstream, but never accepted here
    header_segment = encode_segment({"alg": "HS256", "kid": "k1"})
    payload_segment = good.split(".")[1]
    mac = hmac.new(b"client-secret", f"{header_segment}.{payload_segment}".encode(), hashlib.sha256).digest()
    with pytest.raises(UpstreamTokenError, match="algorithm"):
        await check(upstream, f"{header_segment}.{payload_segment}.{b64url_encode(mac)}")


async def test_a_rotated_key_is_picked_up_by_refetching_the_jwks(upstream: MockUpstream) -> None:
    clock = FakeClock()
    http = client(upstream, clock)
    metadata = await http.metadata(PROVIDER)
    now = clock.timestamp()
    await validate_upstream_id_token(upstream.token(), PROVIDER, metadata, http, "n1", now)
    assert upstream.jwks_fetches == 1
    upstream.keys["k2"] = ec.generate_private_key(ec.SECP256R1())
    upstream.published = ["k1", "k2"]
    # right after a fetch an unknown kid does not refetch (a flood of forged kids costs nothing)
    with pytest.raises(UpstreamTokenError):
        await validate_upstream_id_token(upstream.token("k2"), PROVIDER, metadata, http, "n1", now)
    assert upstream.jwks_fetches == 1
    clock.advance(MIN_JWKS_REFRESH)
    claims = await validate_upstream_id_token(upstream.token("k2"), PROVIDER, metadata, http, "n1", now)
    assert claims["sub"] == "u1" and upstream.jwks_fetches == 2


async def test_a_discovery_document_of_another_issuer_is_refused(upstream: MockUpstream) -> None:
    upstream.issuer = "https://evil.example"
    with pytest.raises(UpstreamError, match="issuer"):
        await client(upstream, FakeClock()).metadata(PROVIDER)
