"""Compact JSON to and from UTF-8 bytes for the per-request paths (response bodies, JWT segments, stored grant
payloads), through ``orjson``: a token request encodes three to four JSON documents, and the standard library's
encoder takes 2-6 µs for each where ``orjson`` takes 0.1-0.4 µs (docs/performance-stored-grants.md, seventh pass).

The bytes are those of ``json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()`` for the values
these paths hold (strings, integers, booleans, ``None``, lists and dicts with string keys). What ``orjson`` refuses
(integers beyond 64 bits, dict keys that are not strings) goes to the standard library, as before."""

from __future__ import annotations

import json
from typing import Any

import orjson

_standard = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dumps(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: what orjson does not write, the standard library may
        return _standard(value).encode("utf-8")


def loads(data: bytes | str) -> Any:
    """A JSON document this server wrote (stored grant payloads): ``orjson`` reads integers beyond 64 bits as
    floats, and the documents read here hold none (times, lifetimes and versions; claim values are strings)."""
    return orjson.loads(data)
