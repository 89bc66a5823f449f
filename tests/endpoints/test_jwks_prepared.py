"""The JWKS document is prepared once per key change (issue 15): public JWKs derived once per key, the bytes
serialized again only when the published keys change, over real HTTP through a key rotation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from identityserver.services.key_management import key_material
from tests.support.quick import canonical_configuration
from tests.support.server import Server, make_builder, running

JWKS = "/.well-known/openid-configuration/jwks"


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with running(make_builder(canonical_configuration())) as srv:
        yield srv


async def test_jwks_bytes_are_reused_until_the_keys_change(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    derived: list[str] = []
    original = key_material.public_jwk

    def counting(key: object) -> dict[str, object]:
        derived.append(type(key).__name__)
        return original(key)  # type: ignore[arg-type]

    monkeypatch.setattr(key_material, "public_jwk", counting)
    first = await server.client.get(JWKS)
    again = [await server.client.get(JWKS) for _ in range(5)]
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/jwk-set+json"
    assert all(r.content == first.content for r in again)
    keys = first.json()["keys"]
    assert len(keys) == 1 and "d" not in keys[0]
    assert first.json() == {"keys": await server.services.key_material.get_json_web_keys()}
    assert len(derived) <= 1  # derived at most once (0 when start-up already derived it), not per request

    server.clock.advance(days=76, minutes=1)  # the successor key is announced (propagation time before use)
    rotated = await server.client.get(JWKS)
    kids = [k["kid"] for k in rotated.json()["keys"]]
    assert len(kids) == 2 and keys[0]["kid"] in kids
    assert rotated.content != first.content
    assert json.loads(rotated.content) == {"keys": await server.services.key_material.get_json_web_keys()}
    assert len(derived) <= 2
