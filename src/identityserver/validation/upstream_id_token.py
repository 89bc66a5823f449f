"""Validation of an upstream provider's ID token (OIDC Core §3.1.3.7 for the code flow, §3.2.2.11 for
``id_token``): signature by a key of the upstream JWKS found by ``kid`` under an asymmetric algorithm the upstream
announces, ``iss``, ``aud``/``azp``, ``exp``, ``iat``, ``nonce``, and ``c_hash``/``at_hash`` when present."""

from __future__ import annotations

from typing import Any

from identityserver.crypto.hashing import constant_time_equals, left_half_hash
from identityserver.crypto.jwt import JwtError, audience_values, decode_jws, numeric_date, verify_signature
from identityserver.models.identity_providers import OidcProvider
from identityserver.services.upstream_oidc import UpstreamMetadata, UpstreamOidcClient

#: Asymmetric algorithms only: ``none`` and HMAC (keyed with the client secret) are never accepted.
ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
CLOCK_SKEW = 300
MAX_SUBJECT_LENGTH = 400  # IdentityServerExternalLogins.ProviderSubjectId


class UpstreamTokenError(ValueError):
    """The upstream ID token is not acceptable; the message says why (logged, never shown with the token)."""


async def validate_upstream_id_token(
    token: str,
    provider: OidcProvider,
    metadata: UpstreamMetadata,
    upstream: UpstreamOidcClient,
    nonce: str,
    now: float,
    code: str | None = None,
    access_token: str | None = None,
) -> dict[str, Any]:
    """The token's claims when it passes every check, else ``UpstreamTokenError``."""
    try:
        jws = decode_jws(token)
    except JwtError as exc:
        raise UpstreamTokenError(str(exc)) from exc
    alg = jws.alg
    announced = set(metadata.id_token_signing_alg_values_supported)
    if alg not in ALLOWED_ALGORITHMS or alg not in announced:
        raise UpstreamTokenError(f"algorithm {alg!r} is not accepted")
    kid = jws.header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise UpstreamTokenError("kid is not a string")
    keys = await upstream.signing_key(metadata, kid)
    if not any(
        (key_alg is None or key_alg == alg) and verify_signature(alg, key, jws.signing_input, jws.signature)
        for key_alg, key in keys
    ):
        raise UpstreamTokenError("signature does not verify with the upstream keys")
    claims = jws.payload
    if claims.get("iss") != metadata.issuer:
        raise UpstreamTokenError("iss is not the upstream issuer")
    audiences = audience_values(claims.get("aud"))
    if not audiences or provider.client_id not in audiences:
        raise UpstreamTokenError("aud does not include this server's client_id")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != provider.client_id:
        raise UpstreamTokenError("azp is not this server's client_id")
    exp, iat = numeric_date(claims.get("exp")), numeric_date(claims.get("iat"))
    if exp is None or exp + CLOCK_SKEW < now:
        raise UpstreamTokenError("the token has expired")
    if iat is None or iat - CLOCK_SKEW > now:
        raise UpstreamTokenError("iat is missing or in the future")
    received = claims.get("nonce")
    if not isinstance(received, str) or not constant_time_equals(received, nonce):
        raise UpstreamTokenError("nonce does not match the request")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > MAX_SUBJECT_LENGTH:
        raise UpstreamTokenError("sub is missing or too long")
    for name, value in (("c_hash", code), ("at_hash", access_token)):
        present = claims.get(name)
        if present is None or value is None:
            continue
        if not isinstance(present, str) or not constant_time_equals(present, left_half_hash(value, alg)):
            raise UpstreamTokenError(f"{name} does not match")
    return claims
