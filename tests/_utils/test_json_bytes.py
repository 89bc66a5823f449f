"""The hot paths' JSON: the standard library's compact bytes, through orjson, and what orjson refuses still written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from identityserver._utils import json_bytes


def standard(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize(
    "value",
    [
        {"access_token": "A1-2", "token_type": "Bearer", "expires_in": 3600, "scope": "openid api1"},
        {"Claims": [{"Type": "name", "Value": 'Zoë "quoted" \\ back\nline \u2028'}], "Lifetime": 0, "x": None},
        {"active": False, "aud": ["a", "b"], "cnf": {"jkt": "abc"}, "exp": 2**63 - 1, "neg": -(2**63)},
        {"emoji": "\U0001f600", "control": "\x00\x1f\x7f", "empty": {}, "list": []},
        ["top", "level", 1, True],
    ],
)
def test_dumps_writes_the_standard_librarys_compact_bytes(value):
    assert json_bytes.dumps(value) == standard(value)


def test_what_orjson_refuses_goes_to_the_standard_library():
    big = {"n": 2**64 + 1}
    keys = {1: "a", None: "b"}
    assert json_bytes.dumps(big) == b'{"n":18446744073709551617}'
    assert json_bytes.dumps(keys) == standard(keys) == b'{"1":"a","null":"b"}'


def test_what_neither_writes_raises_as_before():
    with pytest.raises(TypeError):
        json_bytes.dumps({"x": object()})
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate: the standard library writes it, UTF-8 cannot
        json_bytes.dumps({"x": "\ud800"})


def test_loads_reads_what_dumps_wrote_and_rejects_what_is_not_json():
    value = {"Claims": [{"Type": "sub", "Value": "1"}], "CreationTime": 1_700_000_000, "Version": 4}
    assert json_bytes.loads(json_bytes.dumps(value)) == value
    assert json_bytes.loads(json_bytes.dumps(value).decode("utf-8")) == value
    for bad in (b"{", b'{"a":1,}', b"\xff", "NaN"):
        with pytest.raises(ValueError):
            json_bytes.loads(bad)
