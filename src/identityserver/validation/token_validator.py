"""Access-token validation for userinfo, introspection and local APIs (Duende ``TokenValidator``).

JWTs are checked against this server's validation keys (``typ``, ``alg`` pinned to the key, ``iss``, ``exp``);
reference tokens are looked up by hashed handle. Either way the client must still exist and be enabled."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from identityserver.clock import Clock
from identityserver.constants import ProtectedResourceErrors
from identityserver.crypto.jwt import JwtError, decode_jws, numeric_date
from identityserver.models.claims import Claim, ClaimValueTypes
from identityserver.models.client import Client
from identityserver.models.grants import Token
from identityserver.options import IdentityServerOptions
from identityserver.services.protocols import KeyMaterialService
from identityserver.services.token_creation import ACCESS_TOKEN
from identityserver.stores.protocols import ClientStore, ReferenceTokenStore


@dataclass(slots=True)
class TokenValidationResult:
    is_error: bool = False
    error: str | None = None
    error_description: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    client: Client | None = None
    is_reference: bool = False
    reference_token: Token | None = None

    @property
    def scopes(self) -> list[str]:
        scope = self.claims.get("scope")
        if isinstance(scope, str):
            return [s for s in scope.split(" ") if s]
        if isinstance(scope, list):
            return [str(s) for s in scope]
        return []

    @property
    def confirmation(self) -> dict[str, Any] | None:
        cnf = self.claims.get("cnf")
        return cnf if isinstance(cnf, dict) else None


def _invalid(description: str) -> TokenValidationResult:
    return TokenValidationResult(True, ProtectedResourceErrors.INVALID_TOKEN, description)


def reference_token_claims(token: Token) -> dict[str, Any]:
    """The claims a reference token stands for, shaped like the JWT it would have been."""
    claims: dict[str, Any] = {
        "iss": token.issuer,
        "nbf": token.creation_time,
        "iat": token.creation_time,
        "exp": token.creation_time + token.lifetime,
    }
    if token.audiences:
        claims["aud"] = token.audiences[0] if len(token.audiences) == 1 else list(token.audiences)
    if token.confirmation:
        claims["cnf"] = json.loads(token.confirmation)
    for claim in token.claims:
        value = claim.json_value() if claim.value_type != ClaimValueTypes.STRING else claim.value
        if claim.type == "scope":
            claims.setdefault("scope", []).append(value)
        elif claim.type in claims and claim.type not in ("iss", "exp", "iat", "nbf"):
            existing = claims[claim.type]
            claims[claim.type] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            claims.setdefault(claim.type, value)
    if isinstance(claims.get("scope"), list):
        claims["scope"] = " ".join(claims["scope"])
    return claims


class TokenValidator:
    """Validates access tokens presented to this server (userinfo, introspection; Duende ``TokenValidator``): JWTs
    against our keys, reference tokens against the store; override to add checks."""

    def __init__(
        self,
        options: IdentityServerOptions,
        keys: KeyMaterialService,
        clients: ClientStore,
        reference_tokens: ReferenceTokenStore,
        clock: Clock,
        is_revoked: Callable[[str], Awaitable[bool]] | None = None,
        session_validator: Callable[[str, str | None, Client], Awaitable[bool]] | None = None,
    ) -> None:
        self.options = options
        self.is_revoked = is_revoked
        self.session_validator = session_validator
        self.keys = keys
        self.clients = clients
        self.reference_tokens = reference_tokens
        self.clock = clock

    async def validate_access_token(
        self, token: str, issuer: str, expected_scope: str | None = None
    ) -> TokenValidationResult:
        """The token's claims, or the error: a valid JWT or reference token, of an enabled client, within the user's
        session (coordinated clients), with ``expected_scope``."""
        if not token:
            return _invalid("token is missing")
        if token.count(".") == 2:
            if len(token) > self.options.input_length_restrictions.jwt:
                return _invalid("token is too long")
            result = await self.validate_jwt(token, issuer)
        else:
            if len(token) > self.options.input_length_restrictions.token_handle:
                return _invalid("token is too long")
            result = await self.validate_reference_token(token)
        if result.is_error:
            return result
        client_id = result.claims.get("client_id")
        client = await self.clients.find_client_by_id(client_id) if isinstance(client_id, str) else None
        if client is None or not client.enabled:
            return _invalid("the client of this token no longer exists or is disabled")
        result.client = client
        subject = result.claims.get("sub")
        if self.session_validator is not None and isinstance(subject, str) and subject != client.client_id:
            sid = result.claims.get("sid")
            if not await self.session_validator(subject, sid if isinstance(sid, str) else None, client):
                return _invalid("the user's session has ended")
        if expected_scope is not None and expected_scope not in result.scopes:
            return TokenValidationResult(
                True,
                ProtectedResourceErrors.INSUFFICIENT_SCOPE,
                f"the token lacks the '{expected_scope}' scope",
            )
        return result

    async def validate_jwt(self, token: str, issuer: str) -> TokenValidationResult:
        """A JWT access token signed by one of our keys, typed ``access_token_jwt_type``, of this issuer, unexpired
        and not revoked by ``jti`` (RFC 9068 §4)."""
        try:
            jws = decode_jws(token, max_length=self.options.input_length_restrictions.jwt)
        except JwtError:
            return _invalid("token is malformed")
        expected_typ = self.options.access_token_jwt_type
        if expected_typ and jws.header.get("typ") != expected_typ:
            return _invalid("token is not an access token")
        if not await self.keys.verify_issued_jws(jws):
            return _invalid("token signature is invalid")
        claims = jws.payload
        if claims.get("iss") != issuer:
            return _invalid("token was issued by another issuer")
        now = self.clock.timestamp()
        exp = numeric_date(claims.get("exp"))
        if exp is None or exp <= now:
            return _invalid("token is expired")
        nbf = numeric_date(claims.get("nbf")) if "nbf" in claims else None
        if nbf is not None and nbf > now + 60:
            return _invalid("token is not valid yet")
        jti = claims.get("jti")
        if self.is_revoked is not None and isinstance(jti, str) and await self.is_revoked(jti):
            return _invalid("token was revoked")
        return TokenValidationResult(claims=claims)

    async def validate_reference_token(self, handle: str) -> TokenValidationResult:
        """A stored, unexpired reference access token."""
        found = await self.reference_tokens.get_item(handle)
        if found is None:
            return _invalid("token is unknown, revoked or expired")
        token, _ = found
        if token.type != ACCESS_TOKEN or token.creation_time + token.lifetime <= self.clock.timestamp():
            return _invalid("token is expired")
        return TokenValidationResult(claims=reference_token_claims(token), is_reference=True, reference_token=token)


__all__ = ["Claim", "TokenValidationResult", "TokenValidator", "reference_token_claims"]
