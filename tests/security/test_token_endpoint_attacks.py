"""security.md §1.4, the token endpoint in general, ``client_credentials`` and ``password``: the cases
tests/endpoints/test_token_*.py and tests/hosting/test_bad_input.py do not cover (password guessing at the token
endpoint, refresh tokens for client credentials with offline access allowed, handle entropy)."""

from __future__ import annotations

import math
import string

import pytest

from tests.security.support import server_with
from tests.support.browser import obtain_code, redeem
from tests.support.server import basic

OFFLINE_M2M_TOML = """
[[clients]]
client_id = "m2m.offline"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
allow_offline_access = true
"""


@pytest.fixture
async def server():
    async with server_with(OFFLINE_M2M_TOML) as srv:
        yield srv


async def password_grant(server, password: str):
    return await server.token(
        {"grant_type": "password", "username": "alice", "password": password, "scope": "api1"},
        headers=basic("ropc", "secret"),
    )


async def test_password_guessing_at_the_token_endpoint_is_throttled(server):
    """RFC 6749 §4.3.2, security.md item 53: the password grant is throttled like the login page."""
    for attempt in range(20):
        response = await password_grant(server, f"guess-{attempt}")
        assert response.status_code == 400
    response = await password_grant(server, "alice")
    assert response.status_code == 400 and "access_token" not in response.json()


async def test_client_credentials_never_yield_a_refresh_token_even_with_offline_access_allowed(server):
    response = await server.token(
        {"grant_type": "client_credentials", "scope": "api1"}, headers=basic("m2m.offline", "secret")
    )
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()
    offline = await server.token(
        {"grant_type": "client_credentials", "scope": "api1 offline_access"}, headers=basic("m2m.offline", "secret")
    )
    assert offline.status_code == 400 and offline.json()["error"] == "invalid_scope"


async def test_refresh_token_grant_is_unauthorized_for_a_client_credentials_client(server):
    response = await server.token(
        {"grant_type": "refresh_token", "refresh_token": "x" * 20}, headers=basic("m2m", "secret")
    )
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"


def random_part(handle: str) -> str:
    """A handle without what is not secret: a ``-1``/``-2`` version suffix, and a ``-2`` handle's leading issue
    time (12 hex digits of milliseconds, which puts its stored key in index order)."""
    if handle.endswith("-2"):
        return handle[12:-2]
    return handle[:-2] if handle.endswith("-1") else handle


def entropy_bits(handle: str) -> float:
    """Bits of the random part of a handle judged by its alphabet (hex or base64url)."""
    core = random_part(handle)
    alphabet = 16 if set(core) <= set(string.hexdigits) else 64
    return len(core) * math.log2(alphabet)


async def test_codes_refresh_tokens_and_reference_tokens_have_256_random_bits_and_no_shared_prefix(server):
    codes, refresh_tokens, references = [], [], []
    for _ in range(8):
        grant = await obtain_code(server.client, "web.reference", scope="openid api1 offline_access")
        codes.append(grant.code)
        body = (await redeem(server.client, grant)).json()
        refresh_tokens.append(body["refresh_token"])
        references.append(body["access_token"])
    for handles in (codes, refresh_tokens, references):
        assert len(set(handles)) == len(handles)
        assert all(entropy_bits(h) >= 256 for h in handles), handles
        assert len({random_part(h)[:8] for h in handles}) == len(handles), handles  # not sequential
        # what leads the random part is the issue time, nothing derived from a secret or a counter
        assert {int(h[:12], 16) for h in handles} == {int(server.clock.timestamp() * 1000)}, handles
