"""Request objects by value (RFC 9101 §4-6; OIDC Core §6.1; Duende ``JwtRequestValidator``).

The object must be signed with one of the client's JWK keys (asymmetric algorithms only), ``iss`` must be
the client, ``aud`` the issuer, and it must not nest ``request``/``request_uri``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from identityserver.clock import Clock
from identityserver.constants import SUPPORTED_CLIENT_ASSERTION_ALGORITHMS, JwtTypes
from identityserver.crypto.jwt import JwtError, audience_values, decode_jws, numeric_date, verify_signature
from identityserver.models.client import Client
from identityserver.stores.protocols import ReplayCache
from identityserver.validation.client_secrets.validators import load_client_jwks
from identityserver.validation.security_profile import request_object_problem

CLOCK_SKEW = 300
#: RFC 9101 §10.2 leaves the bound to the server: a request object is for one request, not a long-lived token.
MAX_REQUEST_OBJECT_LIFETIME = 3600
REPLAY_PURPOSE = "JwtRequest-jti"


@dataclass(slots=True)
class JwtRequestValidationResult:
    payload: dict[str, Any] | None = None
    error: str | None = None


class JwtRequestValidator:
    """Validates request objects (Duende ``JwtRequestValidator``; RFC 9101 §6): signed by one of the client's keys with
    an asymmetric algorithm, ``iss`` the client, ``aud`` this issuer, unexpired."""

    def __init__(
        self, clock: Clock, strict: bool = False, max_length: int = 51200, replay_cache: ReplayCache | None = None
    ) -> None:
        self.replay_cache = replay_cache
        """Records each object's ``jti`` so that it is used once (RFC 9101 §10.2); ``None`` checks no ``jti``."""
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
        profile_problem = request_object_problem(client, jws.alg, jws.payload, self.clock.timestamp())
        if profile_problem is not None:  # FAPI 2.0 (docs/fapi.md)
            return JwtRequestValidationResult(error=profile_problem)
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
        if exp > now + MAX_REQUEST_OBJECT_LIFETIME + CLOCK_SKEW:
            return JwtRequestValidationResult(error="request object exp is too far in the future")
        if "nbf" in payload:
            nbf = numeric_date(payload["nbf"])
            if nbf is None or nbf > now + CLOCK_SKEW:
                return JwtRequestValidationResult(error="request object is not valid yet")
        if "request" in payload or "request_uri" in payload:
            return JwtRequestValidationResult(error="request object must not contain request or request_uri")
        replayed = await self.is_replay(client, payload.get("jti"), exp - now)
        if replayed is not None:
            return JwtRequestValidationResult(error=replayed)
        return JwtRequestValidationResult(payload=payload)

    async def is_replay(self, client: Client, jti: object, remaining: float) -> str | None:
        """Why the object's ``jti`` cannot be accepted (RFC 9101 §10.2: replayed), checked last so that only valid
        objects are recorded; ``None`` when it is new or absent."""
        if self.replay_cache is None or jti is None:
            return None
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            return "request object jti must be a non-empty string"
        lifetime = max(remaining, 0) + CLOCK_SKEW
        if not await self.replay_cache.add(REPLAY_PURPOSE, f"{client.client_id}:{jti}", lifetime):
            return "request object was already used (jti replay)"
        return None


#: What a ``require_request_object`` client may send beside its object (the engine adds ``suppressed_prompt``).
BESIDE_REQUEST_OBJECT = ("client_id", "request", "response_type", "scope", "suppressed_prompt")


def outside_request_object(parameters: Mapping[str, str]) -> str | None:
    """Why a ``require_request_object`` client's request is refused: parameters outside its object (RFC 9101 §5:
    the request is what the object says; OIDC Core §6.1 keeps ``client_id``, ``response_type`` and ``scope``
    outside for OAuth 2.0 syntax, and the object's values win). ``None`` when there are none."""
    outside = sorted(name for name in parameters if name not in BESIDE_REQUEST_OBJECT)
    return f"parameters must be inside the request object: {', '.join(outside)}" if outside else None
