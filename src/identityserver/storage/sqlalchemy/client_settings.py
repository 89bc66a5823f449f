"""``Client`` fields declared with ``server_setting`` <-> ``ClientProperties`` rows ``identityserver:<name>``.

IdentityServer's ``Clients`` table has no column for them; keeping them as properties means a new setting needs no
migration and a 6.x database stays readable by IdentityServer. Strings are stored as they are (the format of the
earliest such setting, ``token_endpoint_auth_method``), everything else as JSON."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from enum import Enum
from functools import cache
from typing import Any

from identityserver.models.client import SERVER_SETTING, Client

PREFIX = "identityserver:"


@cache
def _settings() -> dict[str, tuple[dataclasses.Field[Any], Any]]:
    hints = typing.get_type_hints(Client)
    return {f.name: (f, hints[f.name]) for f in dataclasses.fields(Client) if f.metadata.get(SERVER_SETTING)}


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _is_text(hint: Any) -> bool:
    return hint is str or (
        typing.get_origin(hint) in (typing.Union, types.UnionType) and set(typing.get_args(hint)) <= {str, type(None)}
    )


def _enum_type(hint: Any) -> type[Enum] | None:
    return next((t for t in (hint, *typing.get_args(hint)) if isinstance(t, type) and issubclass(t, Enum)), None)


def _encode(value: Any) -> str:
    return json.dumps(value.value if isinstance(value, Enum) else value, separators=(",", ":"))


def settings_to_properties(client: Client) -> dict[str, str]:
    """The ``ClientProperties`` rows for the settings that differ from their defaults."""
    rows: dict[str, str] = {}
    for name, (f, hint) in _settings().items():
        value = getattr(client, name)
        if value == _default(f) or value is None:
            continue
        if isinstance(value, str) and _is_text(hint):
            rows[PREFIX + name] = value
        else:
            rows[PREFIX + name] = _encode(value)
    return rows


def settings_from_properties(properties: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(keyword arguments for ``Client``, the remaining free properties)."""
    kwargs: dict[str, Any] = {}
    rest: dict[str, str] = {}
    settings = _settings()
    for key, raw in properties.items():
        name = key.removeprefix(PREFIX)
        if not key.startswith(PREFIX) or name not in settings:
            rest[key] = raw
            continue
        hint = settings[name][1]
        if _is_text(hint):
            kwargs[name] = raw
            continue
        value = json.loads(raw)
        enum_type = next(
            (t for t in (hint, *typing.get_args(hint)) if isinstance(t, type) and issubclass(t, Enum)), None
        )
        kwargs[name] = enum_type(value) if enum_type is not None and value is not None else value
    return kwargs, rest
