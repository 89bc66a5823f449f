"""Claims and the authenticated principal (Duende's use of ``System.Security.Claims``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


class ClaimValueTypes:
    STRING = "string"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    DOUBLE = "double"
    JSON = "json"


@dataclass(slots=True, frozen=True)
class Claim:
    """One claim. ``value`` is always text; ``value_type`` says how to emit it in JSON."""

    type: str
    value: str
    value_type: str = ClaimValueTypes.STRING

    @classmethod
    def of(cls, claim_type: str, value: Any) -> Claim:
        """Build a claim from a Python value, keeping its JSON type."""
        if isinstance(value, bool):
            return cls(claim_type, "true" if value else "false", ClaimValueTypes.BOOLEAN)
        if isinstance(value, int):
            return cls(claim_type, str(value), ClaimValueTypes.INTEGER)
        if isinstance(value, float):
            return cls(claim_type, repr(value), ClaimValueTypes.DOUBLE)
        if isinstance(value, dict | list):
            return cls(claim_type, json.dumps(value, separators=(",", ":")), ClaimValueTypes.JSON)
        return cls(claim_type, str(value))

    def json_value(self) -> Any:
        if self.value_type == ClaimValueTypes.BOOLEAN:
            return self.value.lower() == "true"
        if self.value_type == ClaimValueTypes.INTEGER:
            try:
                return int(self.value)
            except ValueError:
                return self.value
        if self.value_type == ClaimValueTypes.DOUBLE:
            try:
                return float(self.value)
            except ValueError:
                return self.value
        if self.value_type == ClaimValueTypes.JSON:
            try:
                return json.loads(self.value)
            except ValueError:
                return self.value
        return self.value

    def to_dict(self) -> dict[str, str]:
        data = {"type": self.type, "value": self.value}
        if self.value_type != ClaimValueTypes.STRING:
            data["value_type"] = self.value_type
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Claim:
        return cls(str(data["type"]), str(data["value"]), str(data.get("value_type", ClaimValueTypes.STRING)))


#: Claim types whose values are always emitted as a JSON array (Duende ``TokenExtensions``).
ARRAY_CLAIMS = frozenset({"amr", "scope"})


def claims_to_json(claims: Iterable[Claim]) -> dict[str, Any]:
    """Group claims by type into a JWT payload: one value stays scalar, several become an array."""
    grouped: dict[str, list[Any]] = {}
    for claim in claims:
        value = claim.value if claim.value_type == ClaimValueTypes.STRING else claim.json_value()
        grouped.setdefault(claim.type, []).append(value)
    return {name: values if len(values) > 1 or name in ARRAY_CLAIMS else values[0] for name, values in grouped.items()}


@dataclass(slots=True)
class Principal:
    """An authenticated subject: the ``sub`` claim plus authentication facts (auth_time, amr, idp, sid)."""

    claims: list[Claim] = field(default_factory=list)

    def find_first(self, claim_type: str) -> str | None:
        for claim in self.claims:
            if claim.type == claim_type:
                return claim.value
        return None

    def find_all(self, claim_type: str) -> list[str]:
        return [claim.value for claim in self.claims if claim.type == claim_type]

    @property
    def subject_id(self) -> str:
        return self.find_first("sub") or ""

    @property
    def auth_time(self) -> int | None:
        value = self.find_first("auth_time")
        return int(value) if value and value.isascii() and value.isdigit() else None

    @property
    def identity_provider(self) -> str | None:
        return self.find_first("idp")

    @property
    def session_id(self) -> str | None:
        return self.find_first("sid")

    @property
    def authentication_methods(self) -> list[str]:
        return self.find_all("amr")

    def to_list(self) -> list[dict[str, str]]:
        return [claim.to_dict() for claim in self.claims]

    @classmethod
    def from_list(cls, data: list[dict[str, Any]]) -> Principal:
        return cls([Claim.from_dict(item) for item in data])
