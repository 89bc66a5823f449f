"""Introspection responses (Duende ``IntrospectionResponseGenerator``; RFC 7662 §2.2)."""

from __future__ import annotations

from typing import Any

from identityserver.models.resources import ApiResource
from identityserver.validation.token_validator import TokenValidationResult

INACTIVE: dict[str, Any] = {"active": False}


class IntrospectionResponseGenerator:
    """Builds introspection responses (Duende ``IntrospectionResponseGenerator``; RFC 7662 §2.2); override to change
    what an API or client is told about a token."""

    def process_for_api(self, result: TokenValidationResult, api: ApiResource) -> dict[str, Any]:
        """Active only when the token carries one of the API's scopes; ``scope`` narrowed to those."""
        if result.is_error:
            return dict(INACTIVE)
        allowed = [s for s in result.scopes if s in api.scopes]
        if not allowed:
            return dict(INACTIVE)
        return self._response(result.claims, allowed)

    def process_for_client(self, claims: dict[str, Any], scopes: list[str]) -> dict[str, Any]:
        """The response for a client introspecting its own refresh token."""
        return self._response(claims, scopes)

    def _response(self, claims: dict[str, Any], scopes: list[str]) -> dict[str, Any]:
        response: dict[str, Any] = {"active": True}
        for name, value in claims.items():
            if name in ("scope", "active"):
                continue
            response[name] = value
        response["scope"] = " ".join(scopes)
        response.setdefault("token_type", "access_token")
        return response
