"""JWT-secured authorization responses (JARM: OpenID Financial-grade API JWT Secured Authorization Response Mode
§2.1, §4.1): the authorization response parameters, success or error, become the claims of one JWT signed by
this server, delivered as ``response``."""

from __future__ import annotations

from typing import Any

from identityserver.clock import Clock
from identityserver.crypto.jwt import encode_jws
from identityserver.models.security_profile import FAPI_SIGNING_ALGORITHMS
from identityserver.services.protocols import KeyMaterialService
from identityserver.validation.authorize_results import ValidatedAuthorizeRequest

#: Seconds a response JWT is valid (JARM §4.1 asks for a short lifetime; the code it carries lives longer).
RESPONSE_LIFETIME = 60


class JarmResponseGenerator:
    """Signs authorization responses for the ``*.jwt`` response modes (JARM §2.1): ``iss``, ``aud`` (the client),
    ``exp`` and the response parameters, with the client's ``authorization_signed_response_alg``, else the
    server's default algorithm (a FAPI 2.0 client's: PS256 or ES256). Override ``create_claims`` to add claims."""

    def __init__(self, keys: KeyMaterialService, clock: Clock, lifetime: int = RESPONSE_LIFETIME) -> None:
        self.keys = keys
        self.clock = clock
        self.lifetime = lifetime

    def signing_algorithms(self, request: ValidatedAuthorizeRequest) -> list[str] | None:
        """The algorithms the response may be signed with (``None``: any the server has, the default first)."""
        client = request.client
        if client.authorization_signed_response_alg:
            return [client.authorization_signed_response_alg]
        if client.security_profile is not None:
            return list(FAPI_SIGNING_ALGORITHMS)  # FAPI 2.0 SP §5.4.1
        return None

    def create_claims(self, request: ValidatedAuthorizeRequest, parameters: dict[str, str]) -> dict[str, Any]:
        """JARM §2.1: the response parameters plus ``iss``, ``aud`` and ``exp``."""
        now = int(self.clock.timestamp())
        claims: dict[str, Any] = dict(parameters)
        claims.update(iss=request.issuer, aud=request.client_id, exp=now + self.lifetime, iat=now)
        return claims

    async def create_response(self, request: ValidatedAuthorizeRequest, parameters: dict[str, str]) -> dict[str, str]:
        """The parameters that replace ``parameters`` in the response: the signed ``response`` JWT."""
        key = await self.keys.get_signing_credentials(self.signing_algorithms(request))
        header = {"alg": key.algorithm, "kid": key.id}
        return {"response": encode_jws(header, self.create_claims(request, parameters), key.private_key)}
