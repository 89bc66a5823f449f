"""DPoP at the token endpoint (RFC 9449 §4.3, §5, §8, §10): every check with a negative case."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from identityserver.client.dpop import DPoPKey
from identityserver.crypto.jwk import public_jwk
from identityserver.crypto.jwt import decode_jws, encode_jws
from tests.support.browser import Browser, pkce_pair, redirect_parameters
from tests.support.server import basic

TOKEN_URL = "https://idp.example/connect/token"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def proof(key: DPoPKey, server, **overrides) -> str:
    header = {"typ": "dpop+jwt", "alg": key.alg, "jwk": key.jwk}
    header.update(overrides.pop("header", {}))
    payload = {
        "jti": overrides.pop("jti", b64(__import__("os").urandom(12))),
        "htm": "POST",
        "htu": TOKEN_URL,
        "iat": int(server.clock.timestamp()),
    }
    payload.update(overrides)
    return encode_jws(header, {k: v for k, v in payload.items() if v is not None}, key.private_key)


async def cc(server, client_id: str, dpop: str | None = None, headers: dict | None = None):
    extra = dict(headers or {})
    if dpop is not None:
        extra["DPoP"] = dpop
    return await server.token(
        {"grant_type": "client_credentials", "scope": "api1"}, headers={**basic(client_id, "secret"), **extra}
    )


def claims_of(token: str) -> dict:
    return decode_jws(token).payload


async def test_valid_proof_returns_a_dpop_bound_access_token(dpop_server):
    key = DPoPKey.generate()
    response = await cc(dpop_server, "dpop.m2m", proof(key, dpop_server))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "DPoP"
    assert claims_of(body["access_token"])["cnf"] == {"jkt": key.thumbprint}


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "ES384", "EdDSA"])
async def test_every_advertised_algorithm_is_accepted(dpop_server, alg):
    key = DPoPKey.generate(alg)
    response = await cc(dpop_server, "dpop.m2m", proof(key, dpop_server))
    assert response.status_code == 200, response.text
    discovery = (await dpop_server.client.get("/.well-known/openid-configuration")).json()
    assert alg in discovery["dpop_signing_alg_values_supported"]


async def test_thumbprint_ignores_extra_jwk_members_and_order(dpop_server):
    key = DPoPKey.generate()
    jwk = dict(reversed(list({**key.jwk, "kid": "k1", "use": "sig"}.items())))
    response = await cc(dpop_server, "dpop.m2m", proof(key, dpop_server, header={"jwk": jwk}))
    assert response.status_code == 200, response.text
    assert claims_of(response.json()["access_token"])["cnf"]["jkt"] == key.thumbprint


def assert_invalid(response, error="invalid_dpop_proof"):
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


async def test_wrong_typ_is_rejected(dpop_server):
    key = DPoPKey.generate()
    assert_invalid(await cc(dpop_server, "dpop.m2m", proof(key, dpop_server, header={"typ": "JWT"})))


async def test_alg_none_is_rejected(dpop_server):
    key = DPoPKey.generate()
    header = b64(json.dumps({"typ": "dpop+jwt", "alg": "none", "jwk": key.jwk}).encode())
    payload = b64(
        json.dumps({"jti": "x1", "htm": "POST", "htu": TOKEN_URL, "iat": int(dpop_server.clock.timestamp())}).encode()
    )
    assert_invalid(await cc(dpop_server, "dpop.m2m", f"{header}.{payload}."))


async def test_hs256_signed_with_the_public_key_is_rejected(dpop_server):
    key = DPoPKey.generate("RS256")
    header = b64(json.dumps({"typ": "dpop+jwt", "alg": "HS256", "jwk": key.jwk}).encode())
    payload = b64(
        json.dumps({"jti": "x2", "htm": "POST", "htu": TOKEN_URL, "iat": int(dpop_server.clock.timestamp())}).encode()
    )
    mac = hmac.new(json.dumps(key.jwk).encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert_invalid(await cc(dpop_server, "dpop.m2m", f"{header}.{payload}.{b64(mac)}"))


async def test_private_key_in_the_header_is_rejected(dpop_server):
    key = DPoPKey.generate("ES256")
    private = dict(key.jwk)
    private["d"] = b64(key.private_key.private_numbers().private_value.to_bytes(32, "big"))
    assert_invalid(await cc(dpop_server, "dpop.m2m", proof(key, dpop_server, header={"jwk": private})))


async def test_weak_rsa_key_is_rejected(dpop_server):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    key = DPoPKey(weak, "RS256")
    assert_invalid(await cc(dpop_server, "dpop.m2m", proof(key, dpop_server)))


async def test_signature_by_another_key_is_rejected(dpop_server):
    key, other = DPoPKey.generate(), DPoPKey.generate()
    token = encode_jws(
        {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.jwk},
        {"jti": "x3", "htm": "POST", "htu": TOKEN_URL, "iat": int(dpop_server.clock.timestamp())},
        other.private_key,
    )
    assert_invalid(await cc(dpop_server, "dpop.m2m", token))


@pytest.mark.parametrize("htm", ["GET", "PUT", "post"])
async def test_wrong_htm_is_rejected(dpop_server, htm):
    assert_invalid(await cc(dpop_server, "dpop.m2m", proof(DPoPKey.generate(), dpop_server, htm=htm)))


@pytest.mark.parametrize(
    "htu",
    [
        "https://evil.example/connect/token",
        "https://idp.example/connect/userinfo",
        "http://idp.example/connect/token",
        "https://idp.example:8443/connect/token",
        "not a url",
    ],
)
async def test_htu_of_another_host_scheme_or_path_is_rejected(dpop_server, htu):
    assert_invalid(await cc(dpop_server, "dpop.m2m", proof(DPoPKey.generate(), dpop_server, htu=htu)))


@pytest.mark.parametrize(
    "htu",
    [
        "https://idp.example/connect/token?x=1#frag",
        "HTTPS://IDP.EXAMPLE/connect/token",
        "https://idp.example:443/connect/token",
    ],
)
async def test_htu_is_compared_after_normalisation_ignoring_query_and_fragment(dpop_server, htu):
    response = await cc(dpop_server, "dpop.m2m", proof(DPoPKey.generate(), dpop_server, htu=htu))
    assert response.status_code == 200, response.text


async def test_htu_is_built_from_the_issuer_not_the_host_header(dpop_server):
    key = DPoPKey.generate()
    forged = proof(key, dpop_server, htu="https://attacker.example/connect/token")
    response = await cc(dpop_server, "dpop.m2m", forged, headers={"Host": "attacker.example"})
    assert_invalid(response)


@pytest.mark.parametrize("field", ["jti", "htm", "htu", "iat"])
async def test_missing_claims_are_rejected(dpop_server, field):
    assert_invalid(await cc(dpop_server, "dpop.m2m", proof(DPoPKey.generate(), dpop_server, **{field: None})))


@pytest.mark.parametrize("iat", ["1700000000", 1.5e9, True])
async def test_iat_of_the_wrong_type_is_rejected(dpop_server, iat):
    assert_invalid(await cc(dpop_server, "dpop.m2m", proof(DPoPKey.generate(), dpop_server, iat=iat)))


@pytest.mark.parametrize("offset", [-3600, -400, 400, 3600])
async def test_stale_and_future_iat_are_rejected(dpop_server, offset):
    iat = int(dpop_server.clock.timestamp()) + offset
    assert_invalid(await cc(dpop_server, "dpop.m2m", proof(DPoPKey.generate(), dpop_server, iat=iat)))


@pytest.mark.parametrize("offset", [-10, 10, -350, 290])
async def test_iat_within_validity_and_clock_skew_is_accepted(dpop_server, offset):
    iat = int(dpop_server.clock.timestamp()) + offset
    response = await cc(dpop_server, "dpop.m2m", proof(DPoPKey.generate(), dpop_server, iat=iat))
    assert response.status_code == 200, response.text


async def test_client_with_no_validation_flags_still_gets_an_iat_check(dpop_server):
    stale = int(dpop_server.clock.timestamp()) - 365 * 86400
    assert_invalid(await cc(dpop_server, "dpop.custom", proof(DPoPKey.generate(), dpop_server, iat=stale)))
    fresh = await cc(dpop_server, "dpop.custom", proof(DPoPKey.generate(), dpop_server))
    assert fresh.status_code == 200


async def test_replayed_proof_is_rejected(dpop_server):
    key = DPoPKey.generate()
    token = proof(key, dpop_server)
    assert (await cc(dpop_server, "dpop.m2m", token)).status_code == 200
    assert_invalid(await cc(dpop_server, "dpop.m2m", token))


async def test_one_proof_sent_in_parallel_passes_exactly_once(dpop_server):
    token = proof(DPoPKey.generate(), dpop_server)
    responses = await asyncio.gather(*(cc(dpop_server, "dpop.m2m", token) for _ in range(20)))
    assert sorted(r.status_code for r in responses) == [200] + [400] * 19


async def test_replay_after_the_window_with_no_flags_is_still_rejected(dpop_server):
    token = proof(DPoPKey.generate(), dpop_server)
    assert (await cc(dpop_server, "dpop.custom", token)).status_code == 200
    dpop_server.clock.advance(61)
    assert_invalid(await cc(dpop_server, "dpop.custom", token))


async def test_two_dpop_headers_are_rejected(dpop_server):
    key = DPoPKey.generate()
    response = await dpop_server.client.post(
        "/connect/token",
        content=urlencode({"grant_type": "client_credentials"}),
        headers=[
            ("Content-Type", "application/x-www-form-urlencoded"),
            *basic("dpop.m2m", "secret").items(),
            ("DPoP", proof(key, dpop_server)),
            ("DPoP", proof(key, dpop_server)),
        ],
    )
    assert_invalid(response)


async def test_oversized_proof_is_rejected(dpop_server):
    key = DPoPKey.generate()
    assert_invalid(await cc(dpop_server, "dpop.m2m", proof(key, dpop_server, pad="x" * 5000)))


async def test_require_dpop_client_without_proof_is_refused(dpop_server):
    assert_invalid(await cc(dpop_server, "dpop.required"))
    assert (await cc(dpop_server, "dpop.required", proof(DPoPKey.generate(), dpop_server))).status_code == 200


async def test_nonce_mode_missing_nonce_answers_use_dpop_nonce_then_succeeds(dpop_server):
    key = DPoPKey.generate()
    first = await cc(dpop_server, "dpop.nonce", proof(key, dpop_server))
    assert_invalid(first, "use_dpop_nonce")
    nonce = first.headers["dpop-nonce"]
    second = await cc(dpop_server, "dpop.nonce", proof(key, dpop_server, nonce=nonce))
    assert second.status_code == 200, second.text


async def test_nonce_mode_bad_or_expired_nonce_is_invalid_with_a_fresh_nonce(dpop_server):
    key = DPoPKey.generate()
    forged = await cc(dpop_server, "dpop.nonce", proof(key, dpop_server, nonce="forged"))
    assert_invalid(forged)
    assert forged.headers["dpop-nonce"]
    nonce = forged.headers["dpop-nonce"]
    dpop_server.clock.advance(120)
    expired = await cc(dpop_server, "dpop.nonce", proof(key, dpop_server, nonce=nonce))
    assert_invalid(expired)
    assert expired.headers["dpop-nonce"] != nonce


async def test_nonce_from_another_server_process_is_accepted(dpop_server):
    """Nonces are stateless: sealed with the shared key ring, not remembered by one process."""
    from identityserver.validation.dpop import DefaultDPoPProofValidator

    key = DPoPKey.generate()
    nonce = await dpop_server.services.data_protection.create_protector("DPoPProofValidation-nonce").protect(
        str(int(dpop_server.clock.timestamp())).encode()
    )
    assert DefaultDPoPProofValidator  # the validator reads it with the same purpose
    response = await cc(dpop_server, "dpop.nonce", proof(key, dpop_server, nonce=nonce))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("ahead", "accepted"), [(1, True), (2, True), (3, False)])
async def test_nonce_of_a_node_whose_clock_is_ahead_is_accepted_within_two_seconds(dpop_server, ahead, accepted):
    """A nonce another node issued, whose clock may be up to 1.5 s ahead (security.md F8; NONCE_CLOCK_LEEWAY);
    one from further ahead is refused, as server_clock_skew = 0 asks."""
    key = DPoPKey.generate()
    issued = int(dpop_server.clock.timestamp()) + ahead
    nonce = await dpop_server.services.data_protection.create_protector("DPoPProofValidation-nonce").protect(
        str(issued).encode()
    )
    response = await cc(dpop_server, "dpop.nonce", proof(key, dpop_server, nonce=nonce))
    if accepted:
        assert response.status_code == 200, response.text
    else:
        assert_invalid(response)
        assert response.json()["error_description"] == "the nonce is invalid or expired"


async def test_reference_token_introspection_returns_cnf(dpop_server):
    key = DPoPKey.generate()
    token = (await cc(dpop_server, "dpop.reference", proof(key, dpop_server))).json()
    assert token["token_type"] == "DPoP"
    info = await dpop_server.client.post(
        "/connect/introspect", data={"token": token["access_token"]}, auth=("urn:api1", "api1-secret")
    )
    assert info.json()["active"] is True
    assert info.json()["cnf"] == {"jkt": key.thumbprint}


async def test_jwt_introspection_returns_cnf(dpop_server):
    key = DPoPKey.generate()
    token = (await cc(dpop_server, "dpop.m2m", proof(key, dpop_server))).json()
    info = await dpop_server.client.post(
        "/connect/introspect", data={"token": token["access_token"]}, auth=("urn:api1", "api1-secret")
    )
    assert info.json()["cnf"] == {"jkt": key.thumbprint}


async def authorize(server, client_id: str, redirect_uri: str, dpop_jkt: str | None = None) -> tuple[str, str]:
    browser = Browser(server.client)
    verifier, challenge = pkce_pair()
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": "openid api1 offline_access",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if dpop_jkt:
        params["dpop_jkt"] = dpop_jkt
    page = await browser.get(f"/connect/authorize?{urlencode(params)}")
    if page.status_code == 200:
        page = await browser.login(page, "alice", "alice")
    return redirect_parameters(page)["code"], verifier


async def redeem(server, client_id, redirect_uri, code, verifier, dpop=None, confidential=True):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
    headers = {"DPoP": dpop} if dpop else {}
    if confidential:
        headers.update(basic(client_id, "secret"))
    else:
        data["client_id"] = client_id
    return await server.token(data, headers=headers)


async def refresh(server, client_id, refresh_token, dpop=None, confidential=True):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    headers = {"DPoP": dpop} if dpop else {}
    if confidential:
        headers.update(basic(client_id, "secret"))
    else:
        data["client_id"] = client_id
    return await server.token(data, headers=headers)


async def test_code_flow_issues_dpop_bound_access_and_refresh_tokens(dpop_server):
    key = DPoPKey.generate()
    code, verifier = await authorize(dpop_server, "dpop.public", "https://spa.example/cb")
    response = await redeem(
        dpop_server,
        "dpop.public",
        "https://spa.example/cb",
        code,
        verifier,
        proof(key, dpop_server),
        confidential=False,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "DPoP"
    assert claims_of(body["access_token"])["cnf"]["jkt"] == key.thumbprint
    renewed = await refresh(
        dpop_server, "dpop.public", body["refresh_token"], proof(key, dpop_server), confidential=False
    )
    assert renewed.status_code == 200, renewed.text
    assert claims_of(renewed.json()["access_token"])["cnf"]["jkt"] == key.thumbprint


async def test_public_client_cannot_switch_keys_on_refresh(dpop_server):
    key, other = DPoPKey.generate(), DPoPKey.generate()
    code, verifier = await authorize(dpop_server, "dpop.public", "https://spa.example/cb")
    body = (
        await redeem(
            dpop_server,
            "dpop.public",
            "https://spa.example/cb",
            code,
            verifier,
            proof(key, dpop_server),
            confidential=False,
        )
    ).json()
    assert_invalid(
        await refresh(dpop_server, "dpop.public", body["refresh_token"], proof(other, dpop_server), confidential=False)
    )
    still = await refresh(
        dpop_server, "dpop.public", body["refresh_token"], proof(key, dpop_server), confidential=False
    )
    assert still.status_code == 200, "a refused key switch must not burn the refresh token"


async def test_confidential_client_may_present_a_new_key_on_refresh(dpop_server):
    key, other = DPoPKey.generate(), DPoPKey.generate()
    code, verifier = await authorize(dpop_server, "dpop.web", "https://web.example/cb")
    body = (
        await redeem(dpop_server, "dpop.web", "https://web.example/cb", code, verifier, proof(key, dpop_server))
    ).json()
    renewed = await refresh(dpop_server, "dpop.web", body["refresh_token"], proof(other, dpop_server))
    assert renewed.status_code == 200, renewed.text
    assert claims_of(renewed.json()["access_token"])["cnf"]["jkt"] == other.thumbprint


async def test_proof_cannot_be_dropped_or_added_on_refresh(dpop_server):
    key = DPoPKey.generate()
    code, verifier = await authorize(dpop_server, "dpop.web", "https://web.example/cb")
    bound = (
        await redeem(dpop_server, "dpop.web", "https://web.example/cb", code, verifier, proof(key, dpop_server))
    ).json()
    assert_invalid(await refresh(dpop_server, "dpop.web", bound["refresh_token"]))
    code, verifier = await authorize(dpop_server, "dpop.web", "https://web.example/cb")
    plain = (await redeem(dpop_server, "dpop.web", "https://web.example/cb", code, verifier)).json()
    assert plain["token_type"] == "Bearer"
    assert_invalid(
        await refresh(dpop_server, "dpop.web", plain["refresh_token"], proof(key, dpop_server)), "invalid_request"
    )


async def test_dpop_jkt_binds_the_code_to_the_key(dpop_server):
    key, other = DPoPKey.generate(), DPoPKey.generate()
    code, verifier = await authorize(dpop_server, "dpop.web", "https://web.example/cb", key.thumbprint)
    assert_invalid(
        await redeem(dpop_server, "dpop.web", "https://web.example/cb", code, verifier, proof(other, dpop_server))
    )
    code, verifier = await authorize(dpop_server, "dpop.web", "https://web.example/cb", key.thumbprint)
    assert_invalid(await redeem(dpop_server, "dpop.web", "https://web.example/cb", code, verifier))
    code, verifier = await authorize(dpop_server, "dpop.web", "https://web.example/cb", key.thumbprint)
    ok = await redeem(dpop_server, "dpop.web", "https://web.example/cb", code, verifier, proof(key, dpop_server))
    assert ok.status_code == 200, ok.text


async def test_oversized_dpop_jkt_is_rejected_at_the_authorize_endpoint(dpop_server):
    browser = Browser(dpop_server.client)
    _, challenge = pkce_pair()
    params = {
        "client_id": "dpop.web",
        "response_type": "code",
        "redirect_uri": "https://web.example/cb",
        "scope": "openid",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "dpop_jkt": "x" * 101,
    }
    response = await browser.get(f"/connect/authorize?{urlencode(params)}")
    assert redirect_parameters(response)["error"] == "invalid_request"


async def test_ec_key_not_on_the_curve_is_rejected(dpop_server):
    key = DPoPKey.generate()
    bad = dict(key.jwk)
    bad["y"] = b64((int.from_bytes(base64.urlsafe_b64decode(bad["y"] + "=="), "big") ^ 1).to_bytes(32, "big"))
    assert_invalid(await cc(dpop_server, "dpop.m2m", proof(key, dpop_server, header={"jwk": bad})))


def test_public_jwk_helper_exports_no_private_members():
    jwk = public_jwk(ec.generate_private_key(ec.SECP256R1()))
    assert set(jwk) == {"kty", "crv", "x", "y"}
