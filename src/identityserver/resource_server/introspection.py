"""Validation of reference tokens at the issuer's introspection endpoint (RFC 7662), with the API's own
credentials (an API resource name and one of its API secrets). Active answers are reused for a short time, never
past the token's ``exp``; inactive ones never are, so a revoked token stops working within
``cache_duration``."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote_plus

from identityserver.clock import Clock
from identityserver.crypto.jwt import audience_values, numeric_date
from identityserver.resource_server.jwks import JwksCache

MAX_CACHED_ANSWERS = 10_000


class TokenIntrospection:
    """Asks the issuer whether a token is active; the answer's claims stand in for a JWT's payload."""

    def __init__(
        self,
        jwks: JwksCache,
        client_id: str,
        secret: str,
        audience: str | None,
        clock: Clock,
        cache_duration: float = 60,
    ) -> None:
        self.jwks = jwks
        self.client_id = client_id
        self.secret = secret
        self.audience = audience
        self.clock = clock
        self.cache_duration = cache_duration
        self._answers: dict[str, tuple[float, dict[str, Any]]] = {}

    async def validate(self, token: str) -> dict[str, Any] | str:
        """The claims of an active token meant for this API, or the reason it is not one."""
        key = hashlib.sha256(token.encode("utf-8")).hexdigest()
        now = self.clock.timestamp()
        cached = self._answers.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        answer = await self.introspect(token)
        if isinstance(answer, str):
            return answer
        claims = self.check(answer)
        if isinstance(claims, dict) and self.cache_duration > 0:
            until = now + self.cache_duration
            exp = numeric_date(claims.get("exp"))
            self._remember(key, min(until, exp) if exp is not None else until, claims)
        return claims

    def check(self, answer: dict[str, Any]) -> dict[str, Any] | str:
        """What the JWT path checks that the issuer's ``active`` does not say: issuer and audience."""
        if answer.get("active") is not True:
            return "inactive token"  # RFC 7662 §2.2: expired, revoked, unknown or not for this API
        if "iss" in answer and answer["iss"] != self.jwks.issuer:
            return "wrong issuer"
        if self.audience is not None:
            audiences = audience_values(answer.get("aud"))
            if audiences is None or self.audience not in audiences:
                return "wrong audience"
        return answer

    async def introspect(self, token: str) -> dict[str, Any] | str:
        """POST the token to the introspection endpoint, authenticated with HTTP Basic (RFC 7662 §2.1; the id
        and secret form-encoded first, RFC 6749 §2.3.1)."""
        import httpx  # only APIs that accept reference tokens need it here

        try:
            await self.jwks.load_metadata()
            endpoint = self.jwks.introspection_endpoint
            if endpoint is None:
                return "the issuer has no introspection endpoint"
            response = await self.jwks.http.post(
                endpoint,
                data={"token": token, "token_type_hint": "access_token"},
                auth=(quote_plus(self.client_id), quote_plus(self.secret)),
            )
        except (httpx.HTTPError, ValueError, KeyError):
            return "token introspection failed"
        if response.status_code != 200:
            return "token introspection failed"
        try:
            answer = response.json()
        except ValueError:
            return "token introspection failed"
        return answer if isinstance(answer, dict) else "token introspection failed"

    def _remember(self, key: str, until: float, claims: dict[str, Any]) -> None:
        if len(self._answers) >= MAX_CACHED_ANSWERS:
            now = self.clock.timestamp()
            self._answers = {k: v for k, v in self._answers.items() if v[0] > now}
            if len(self._answers) >= MAX_CACHED_ANSWERS:
                self._answers.clear()
        self._answers[key] = (until, claims)
