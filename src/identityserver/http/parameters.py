"""Strict ``application/x-www-form-urlencoded`` parsing: duplicates are reported, not merged (RFC 6749 §3.1)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl


class FormError(ValueError):
    """The body or query could not be parsed."""


@dataclass(slots=True)
class Parameters:
    """Request parameters: a first-value mapping plus the names that occurred more than once."""

    values: dict[str, str] = field(default_factory=dict)
    repeated: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, default)

    def get_all(self, name: str) -> list[str]:
        if name in self.repeated:
            return list(self.repeated[name])
        value = self.values.get(name)
        return [] if value is None else [value]

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def duplicated(self, allowed: Iterable[str] = ()) -> str | None:
        """Return the first repeated parameter name that is not in ``allowed``."""
        allowed_set = set(allowed)
        for name in self.repeated:
            if name not in allowed_set:
                return name
        return None

    def as_dict(self) -> dict[str, str]:
        return dict(self.values)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Parameters:
        return cls(values=dict(values))


def parse_form(body: bytes | str, *, max_fields: int = 100) -> Parameters:
    """Parse a form body or query string. Empty values are kept as empty strings. Bytes, raw or percent-encoded,
    that are not UTF-8 are a ``FormError`` rather than replacement characters (two different inputs must never
    parse to the same value)."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=False, max_num_fields=max_fields, errors="strict"
        )
    except UnicodeDecodeError:
        raise FormError("the parameters are not UTF-8") from None
    except ValueError as exc:
        raise FormError(str(exc)) from exc
    params = Parameters()
    for name, value in pairs:
        if name in params.values:
            params.repeated.setdefault(name, [params.values[name]]).append(value)
        else:
            params.values[name] = value
    return params
