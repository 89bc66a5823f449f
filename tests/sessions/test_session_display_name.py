"""``server_side_sessions.user_display_name_claim_type`` (Duende ``ServerSideSessionOptions.UserDisplayNameClaimType``):
the claim of the signed-in user that a server-side session records as its display name."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest

from identityserver.configuration.loader import parse_configuration
from identityserver.models.sessions import SessionQuery
from identityserver.options import ServerSideSessionsOptions
from tests.integration.test_backchannel_logout import sign_in
from tests.support.server import make_builder, running

CONFIG = """
[[clients]]
client_id = "rp1"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://rp1.example/cb"]
allowed_scopes = ["openid", "profile"]
allow_offline_access = true

[[users]]
subject_id = "1"
username = "alice"
password = "alice"
[users.claims]
name = "Alice"
email = "alice@example.com"
"""


@pytest.mark.parametrize(
    ("claim_type", "expected"),
    [(None, "Alice"), ("email", "alice@example.com"), ("sub", "1"), ("phone_number", None)],
)
async def test_the_session_records_the_configured_claim_as_its_display_name(claim_type, expected):
    builder = make_builder(parse_configuration(tomllib.loads(CONFIG)))
    builder.options = dataclasses.replace(
        builder.options,
        server_side_sessions=ServerSideSessionsOptions(enabled=True, user_display_name_claim_type=claim_type),
    )
    async with running(builder) as server:
        await sign_in(server)
        management = server.services.session_management
        assert management is not None
        _, sessions = await management.query_sessions(SessionQuery(subject_id="1"))
    assert [s.display_name for s in sessions] == [expected]
