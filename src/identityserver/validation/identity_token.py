"""Validation of ID tokens this server issued, used as ``id_token_hint`` (OIDC Core §3.1.2.1, RP-Initiated
Logout §2). The lifetime is not checked; the audience must be the client when one is given."""

from __future__ import annotations

from typing import Any

from identityserver.crypto.jwt import JwtError, audience_values, decode_jws
from identityserver.services.protocols import KeyMaterialService

_NOT_ID_TOKEN_TYPES = {"at+jwt", "logout+jwt", "dpop+jwt", "application/at+jwt", "oauth-authz-req+jwt"}


class IdentityTokenValidator:
    """Validates ID tokens this server issued when they come back as ``id_token_hint`` (OIDC Core §3.1.2.1); override to
    relax or tighten what counts as one of ours."""

    def __init__(self, keys: KeyMaterialService, max_length: int = 4000) -> None:
        self.keys = keys
        self.max_length = max_length

    async def validate(self, token: str, issuer: str, client_id: str | None = None) -> dict[str, Any] | None:
        """The claims of a valid ID token of ours, else ``None``."""
        try:
            jws = decode_jws(token, max_length=self.max_length)
        except JwtError:
            return None
        typ = jws.header.get("typ")
        if isinstance(typ, str) and typ.lower() in _NOT_ID_TOKEN_TYPES:
            return None  # RFC 8725 §3.11: no token-type confusion
        if not await self.keys.verify_issued_jws(jws):
            return None
        claims = jws.payload
        if claims.get("iss") != issuer or not isinstance(claims.get("sub"), str):
            return None
        audiences = audience_values(claims.get("aud"))
        if audiences is None or (client_id is not None and client_id not in audiences):
            return None
        if "events" in claims:
            return None  # a logout token (whatever typ it was given) is not an ID token (BCL §2.4)
        if "nonce" not in claims and "at_hash" not in claims and "auth_time" not in claims and "sid" not in claims:
            return None  # an access token without typ would otherwise pass
        return claims
