"""How deeply the JSON a request carries may nest (JWT headers and payloads, JWKs, registration metadata, the
``claims`` parameter): 64 levels of arrays and objects, System.Text.Json's default ``MaxDepth``, with which
IdentityServer reads the same documents. Deeper is refused as malformed (docs/security.md, deeply nested JSON).

The limit is the server's own, not the interpreter's: up to Python 3.11 the ``json`` module raised
``RecursionError`` at about 1,000 levels, from 3.12 on it parses thousands, so a refusal that rested on the
recursion limit alone would depend on the Python a deployment runs."""

from __future__ import annotations

from collections.abc import Iterable

MAX_JSON_DEPTH = 64
"""Levels of nested arrays and objects; a flat object is one level."""


def nests_too_deeply(text: str | bytes, value: object) -> bool:
    """Whether ``value``, parsed from ``text``, nests arrays and objects deeper than :data:`MAX_JSON_DEPTH`.

    A text with no more opening brackets than the limit cannot, which is what a request's JSON almost always has:
    two counts of the text, and the parsed value is walked only when they exceed the limit."""
    opened = text.count("[") + text.count("{") if isinstance(text, str) else text.count(b"[") + text.count(b"{")
    return opened > MAX_JSON_DEPTH and nesting_depth(value) > MAX_JSON_DEPTH


def nesting_depth(value: object) -> int:
    """Levels of arrays and objects in ``value`` (0 for a scalar), without recursion."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Iterable[object] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest  # deep enough to refuse: the rest need not be walked
        pending.extend((child, depth) for child in children)
    return deepest
