"""Scope parsing (Duende ``DefaultScopeParser``). RFC 6749 §3.3: space-delimited scope tokens."""

from __future__ import annotations

import re

from identityserver.models.resources import ParsedScopeValue

_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+$")


class DefaultScopeParser:
    """Splits a scope string; override :meth:`parse_scope_value` for parameterised scopes."""

    def parse_scope_values(self, scope: str) -> list[ParsedScopeValue] | None:
        """Return the parsed values (duplicates removed, order kept), or ``None`` if a token is malformed."""
        values: list[ParsedScopeValue] = []
        seen: set[str] = set()
        for raw in scope.split(" "):
            if not raw or raw in seen:
                continue
            if not _SCOPE_TOKEN.match(raw):
                return None
            seen.add(raw)
            values.append(self.parse_scope_value(raw))
        return values

    def parse_scope_value(self, raw: str) -> ParsedScopeValue:
        """The scope value as its own name (no parameterized scopes)."""
        return ParsedScopeValue(raw, raw)
