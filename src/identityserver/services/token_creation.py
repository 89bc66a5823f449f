"""Serializing tokens as signed JWTs (Duende ``DefaultTokenCreationService`` + ``TokenExtensions``).

The hot path: the header segment is cached per key, the payload is one ``json`` encode, then sign."""

from __future__ import annotations

import json
import secrets
from typing import Any

from identityserver.crypto.jwt import encode_jws_with_header, encode_segment
from identityserver.models.claims import claims_to_json
from identityserver.models.grants import Token
from identityserver.options import IdentityServerOptions
from identityserver.services.protocols import KeyMaterialService

ACCESS_TOKEN = "access_token"
IDENTITY_TOKEN = "id_token"
LOGOUT_TOKEN = "logout_token"


def new_jti() -> str:
    return secrets.token_hex(16).upper()


class DefaultTokenCreationService:
    """The default ``TokenCreationService`` (Duende ``DefaultTokenCreationService``): serializes a token as a JWT signed
    with the current key of an allowed algorithm; override ``token_type_header`` or the payload to change the JWT."""

    def __init__(self, keys: KeyMaterialService, options: IdentityServerOptions) -> None:
        self.keys = keys
        self.options = options
        self._headers: dict[tuple[str, str, str], str] = {}

    def token_type_header(self, token: Token) -> str | None:
        """The ``typ`` header: ``access_token_jwt_type`` for access tokens (RFC 9068 §2.1), ``logout_token_jwt_type``
        for logout tokens, none otherwise."""
        if token.type == ACCESS_TOKEN:
            return self.options.access_token_jwt_type or None
        if token.type == LOGOUT_TOKEN:
            return self.options.logout.logout_token_jwt_type or None
        return None

    def create_payload(self, token: Token) -> dict[str, Any]:
        """The JWT claims set: registered claims first, then the token's claims (Duende ``CreateJwtPayload``)."""
        payload: dict[str, Any] = {"iss": token.issuer}
        if token.type != LOGOUT_TOKEN:
            payload["nbf"] = token.creation_time
        payload["iat"] = token.creation_time
        payload["exp"] = token.creation_time + token.lifetime
        if token.audiences:
            payload["aud"] = token.audiences[0] if len(token.audiences) == 1 else list(token.audiences)
        if token.confirmation:
            payload["cnf"] = json.loads(token.confirmation)
        body = claims_to_json(token.claims)
        scopes = body.pop("scope", None)
        if scopes is not None:
            payload["scope"] = " ".join(scopes) if self.options.emit_scopes_as_space_delimited_string_in_jwt else scopes
        for name, value in body.items():
            payload.setdefault(name, value)
        if token.include_jwt_id and token.type != IDENTITY_TOKEN and "jti" not in payload:
            payload["jti"] = new_jti()
        return payload

    async def create_token(self, token: Token) -> str:
        """The signed JWT of ``token``."""
        key = await self.keys.get_signing_credentials(token.allowed_signing_algorithms or None)
        typ = self.token_type_header(token) or ""
        cache_key = (key.id, key.algorithm, typ)
        header = self._headers.get(cache_key)
        if header is None:
            fields = {"alg": key.algorithm, "kid": key.id, "typ": typ} if typ else {"alg": key.algorithm, "kid": key.id}
            header = encode_segment(fields)
            self._headers[cache_key] = header
        return encode_jws_with_header(header, key.algorithm, self.create_payload(token), key.private_key)

    async def signing_algorithm(self, allowed: list[str] | None) -> str:
        """The algorithm a token limited to ``allowed`` would be signed with."""
        return (await self.keys.get_signing_credentials(allowed or None)).algorithm
