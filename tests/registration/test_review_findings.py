"""Regressions found by an adversarial review of dynamic registration management (RFC 7592)."""

from __future__ import annotations

import pytest

from tests.registration.test_management import CODE_CLIENT, builder, manage, register, update_of
from tests.support.server import running


@pytest.mark.parametrize(
    "member",
    ["registration_access_token", "registration_client_uri", "client_secret_expires_at", "client_id_issued_at"],
)
async def test_put_with_server_issued_members_is_refused_and_changes_nothing(member):
    """RFC 7592 §2.2: an update MUST NOT include these members (security.md item 131: 400 invalid_client_metadata)."""
    async with running(builder(initial_access_tokens={})) as server:
        registered = await register(server, CODE_CLIENT)
        body = update_of(registered, client_name="Changed", **{member: registered[member]})
        response = await manage(server, "PUT", registered, body)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_client_metadata"
        assert member in response.json()["error_description"]
        assert (await manage(server, "GET", registered)).json()["client_name"] == "App"
