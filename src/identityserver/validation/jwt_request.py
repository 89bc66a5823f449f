"""Request objects by value (RFC 9101 §4-6; OIDC Core §6.1; Duende ``JwtRequestValidator``).

The object must be signed with one of the client's JWK keys (asymmetric algorithms only), ``iss`` must be
the client, ``aud`` the issuer, and it must not nest ``request``/``request_uri``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from identityserver.clock import Clock
from identityserver.constants import SUPPORTED_CLIENT_ASSERTION_ALGORITHMS, JwtTypes
from identityserver.crypto.jwt import JwtError, audience_values, decode_jws, numeric_date, verify_signature
from identityserver.models.client import Client
from identityserver.validation.client_secrets.validators import load_client_jwks

CLOCK_SKEW = 300


@dataclass(slots=True)
class JwtRequestValidationResult:
    payload: dict[str, Any] | None = None
    error: str | None = None


class JwtRequestValidator:
    """Validates request objects (Duende ``JwtRequestValidator``; RFC 9101 §6): signed by one of the client's keys with
    an asymmetric algorithm, ``iss`` the client, ``aud`` this issuer, unexpired."""

    def __init__(self, clock: Clock, strict: bool = False, max_length: int = 51200) -> None:
        self.clock = clock
        self.strict = strict
        self.max_length = max_length

    async def validate(self, client: Client, token: str, issuer: str) -> JwtRequestValidationResult:
        """The request object's payload, or the reason it is refused."""
        try:
            jws = decode_jws(token, max_length=self.max_length)
        except JwtError as exc:
            return JwtRequestValidationResult(error=f"request object is malformed: {exc}")
        if jws.alg not in SUPPORTED_CLIENT_ASSERTION_ALGORITHMS:
            return JwtRequestValidationResult(error="request object must be signed with an asymmetric algorithm")
        if self.strict and jws.header.get("typ") != JwtTypes.AUTHORIZATION_REQUEST:
            return JwtRequestValidationResult(error="request object must have typ oauth-authz-req+jwt")
        keys = load_client_jwks(client.client_secrets, self.clock.utc_now())
        if not keys:
            return JwtRequestValidationResult(error="the client has no keys to validate request objects")
        if not any(verify_signature(jws.alg, key, jws.signing_input, jws.signature) for _, key in keys):
            return JwtRequestValidationResult(error="request object signature is invalid")
        payload = jws.payload
        if payload.get("iss") != client.client_id:
            return JwtRequestValidationResult(error="request object iss must be the client_id")
        audiences = audience_values(payload.get("aud"))
        if audiences is None or issuer not in audiences:
            return JwtRequestValidationResult(error="request object aud must be the issuer")
        now = self.clock.timestamp()
        exp = numeric_date(payload.get("exp"))
        if exp is None or exp < now - CLOCK_SKEW:
            return JwtRequestValidationResult(error="request object is expired or has no exp")
        if "nbf" in payload:
            nbf = numeric_date(payload["nbf"])
            if nbf is None or nbf > now + CLOCK_SKEW:
                return JwtRequestValidationResult(error="request object is not valid yet")
        if "request" in payload or "request_uri" in payload:
            return JwtRequestValidationResult(error="request object must not contain request or request_uri")
        return JwtRequestValidationResult(payload=payload)
