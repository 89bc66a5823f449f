"""The OpenID Connect ``claims`` request parameter once validated (OIDC Core §5.5): the individual claims a client
asks for in the ID token and at the userinfo endpoint, each essential or voluntary, with a wanted ``value`` or
``values``. It travels with the authorization code (``AuthorizationCode.properties``) and, as the names of the
userinfo claims, inside the access tokens of the grant (docs/claims-parameter.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from identityserver.models.grants import AuthorizationCode, RefreshToken

#: Key of the validated claims request in ``AuthorizationCode.properties`` (JSON text).
CLAIMS_REQUEST_PROPERTY = "claims"
#: Access-token claim listing the individually requested userinfo claims (a JSON array of claim names), so that
#: the userinfo endpoint honours them for JWT and reference tokens alike, and after a refresh.
USERINFO_CLAIMS_CLAIM = "userinfo_claims"


@dataclass(slots=True, frozen=True)
class RequestedClaim:
    """One individual claim request (OIDC Core §5.5.1): ``null`` is the default (voluntary, any value)."""

    essential: bool = False
    value: Any = None
    values: tuple[Any, ...] | None = None

    def wanted_values(self) -> list[Any]:
        """``value`` and ``values`` as one list (empty when any value will do)."""
        wanted: list[Any] = [] if self.value is None else [self.value]
        return wanted + list(self.values or ())

    def to_json(self) -> dict[str, Any] | None:
        data: dict[str, Any] = {}
        if self.essential:
            data["essential"] = True
        if self.value is not None:
            data["value"] = self.value
        if self.values is not None:
            data["values"] = list(self.values)
        return data or None

    @classmethod
    def from_json(cls, data: Any) -> RequestedClaim:
        if not isinstance(data, dict):
            return cls()
        values = data.get("values")
        return cls(
            data.get("essential") is True, data.get("value"), tuple(values) if isinstance(values, list) else None
        )


@dataclass(slots=True)
class ClaimsRequest:
    """The ``userinfo`` and ``id_token`` members of a claims request (OIDC Core §5.5), claim name -> request."""

    userinfo: dict[str, RequestedClaim] = field(default_factory=dict)
    id_token: dict[str, RequestedClaim] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.userinfo or self.id_token)

    def find(self, name: str) -> list[RequestedClaim]:
        """The requests for claim ``name`` in either member."""
        return [member[name] for member in (self.id_token, self.userinfo) if name in member]

    def to_json(self) -> str:
        """Compact JSON in the parameter's own shape, for persisting with the grant."""
        data = {
            member: {name: claim.to_json() for name, claim in claims.items()}
            for member, claims in (("userinfo", self.userinfo), ("id_token", self.id_token))
            if claims
        }
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> ClaimsRequest | None:
        """What :meth:`to_json` wrote (``None`` for nothing or unreadable text: a grant without a claims request)."""
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None

        def member(name: str) -> dict[str, RequestedClaim]:
            claims = data.get(name)
            if not isinstance(claims, dict):
                return {}
            return {str(k): RequestedClaim.from_json(v) for k, v in claims.items()}

        return cls(member("userinfo"), member("id_token"))


def grant_claims_request(code: AuthorizationCode | None, refresh_token: RefreshToken | None) -> ClaimsRequest | None:
    """The claims request a token request inherits: the code's, or for a refresh token the userinfo claims its
    access token lists (the ID token of a refresh carries the default claims)."""
    if code is not None:
        return ClaimsRequest.from_json(code.properties.get(CLAIMS_REQUEST_PROPERTY))
    previous = refresh_token.access_tokens.get("") if refresh_token is not None else None
    if previous is None:
        return None
    names = [n for c in previous.claims if c.type == USERINFO_CLAIMS_CLAIM for n in requested_names(c.json_value())]
    return ClaimsRequest({n: RequestedClaim() for n in names}) if names else None


def requested_names(value: Any) -> list[str]:
    """The claim names in the ``userinfo_claims`` value of an access token (a JSON array, or one name)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []
