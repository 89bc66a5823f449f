"""Secret validators (Duende ``HashedSharedSecretValidator``, ``PrivateKeyJwtSecretValidator``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from identityserver.clock import Clock
from identityserver.constants import SUPPORTED_CLIENT_ASSERTION_ALGORITHMS, SecretTypes
from identityserver.crypto.hashing import sha256_base64, shared_secret_matches
from identityserver.crypto.jwk import JwkError, PublicKey, load_public_jwk, parse_jwk_json
from identityserver.crypto.jwt import JwtError, decode_jws, numeric_date, verify_signature
from identityserver.models.client import Secret
from identityserver.stores.protocols import ReplayCache
from identityserver.validation.results import ParsedSecret, SecretValidationResult

_DUMMY_HASH = sha256_base64("identityserver-dummy-secret")
CLOCK_SKEW_SECONDS = 300


class HashedSharedSecretValidator:
    """Compares a plain secret with the stored SHA-256/512 hashes, in constant time, ignoring expired ones."""

    async def validate(self, secrets: Sequence[Secret], parsed: ParsedSecret, now: datetime) -> SecretValidationResult:
        """Whether the presented secret matches one of the unexpired shared secrets (the same work when there are
        none)."""
        presented = parsed.credential or ""
        matched = False
        candidates = [s for s in secrets if s.type == SecretTypes.SHARED_SECRET and not s.is_expired(now)]
        for secret in candidates or [Secret(_DUMMY_HASH)]:  # equal work whether or not secrets exist
            if shared_secret_matches(presented, secret.value) and candidates:
                matched = True
        return SecretValidationResult(matched)


def load_client_jwks(secrets: Sequence[Secret], now: datetime) -> list[tuple[str | None, PublicKey]]:
    keys: list[tuple[str | None, PublicKey]] = []
    for secret in secrets:
        if secret.type != SecretTypes.JSON_WEB_KEY or secret.is_expired(now):
            continue
        try:
            jwk = parse_jwk_json(secret.value)
            keys.append((jwk.get("kid") if isinstance(jwk.get("kid"), str) else None, load_public_jwk(jwk)))
        except JwkError:
            continue
    return keys


class PrivateKeyJwtSecretValidator:
    """RFC 7523 §3 client assertions signed with a key from the client's JWK secrets.

    ``aud`` must be one string: the issuer or the token endpoint URL (draft-ietf-oauth-rfc7523bis; arrays are
    refused to close the audience-injection attack of CVE-2025-27370). ``jti`` is single use.
    """

    def __init__(self, replay_cache: ReplayCache, clock: Clock) -> None:
        self.replay_cache = replay_cache
        self.clock = clock

    async def validate(
        self,
        secrets: Sequence[Secret],
        parsed: ParsedSecret,
        client_id: str,
        valid_audiences: Sequence[str],
        max_length: int,
    ) -> SecretValidationResult:
        """Whether the client assertion is signed by one of the client's keys and has the required ``iss``, ``sub``,
        ``aud``, ``exp`` and an unused ``jti`` (RFC 7523 §3)."""
        fail = SecretValidationResult(False)
        try:
            jws = decode_jws(parsed.credential or "", max_length=max_length)
        except JwtError as exc:
            return SecretValidationResult(False, error_description=str(exc))
        if jws.alg not in SUPPORTED_CLIENT_ASSERTION_ALGORITHMS:
            return fail
        typ = jws.header.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.lower() not in ("jwt", "client-authentication+jwt")):
            return fail  # RFC 8725 §3.11: another token type (e.g. a DPoP proof) is not an assertion
        now = self.clock.utc_now()
        keys = load_client_jwks(secrets, now)
        kid = jws.header.get("kid")
        if isinstance(kid, str) and any(k == kid for k, _ in keys):
            keys = [(k, key) for k, key in keys if k == kid]
        if not any(verify_signature(jws.alg, key, jws.signing_input, jws.signature) for _, key in keys):
            return fail
        claims = jws.payload
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            return fail
        aud = claims.get("aud")
        if not isinstance(aud, str) or aud not in valid_audiences:
            return fail
        timestamp = self.clock.timestamp()
        exp = numeric_date(claims.get("exp"))
        if exp is None or exp < timestamp - CLOCK_SKEW_SECONDS:
            return fail
        for name in ("nbf", "iat"):
            if name in claims:
                value = numeric_date(claims[name])
                if value is None or value > timestamp + CLOCK_SKEW_SECONDS:
                    return fail
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > 1000:
            return fail
        lifetime = max(exp - timestamp, 0) + CLOCK_SKEW_SECONDS
        if not await self.replay_cache.add("PrivateKeyJwtSecretValidator", f"{client_id}:{jti}", lifetime):
            return SecretValidationResult(False, error_description="client assertion was replayed")
        return SecretValidationResult(True)
