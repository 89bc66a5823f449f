"""Revocation endpoint for reference access tokens (RFC 7009; duende §1.1; security.md 1.9 items 92-95)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from identityserver.events import TokenRevokedSuccessEvent
from identityserver.models.grants import PersistedGrantFilter
from tests.support.client_auth import (
    ASSERTION_TYPE,
    FORM,
    RecordingEventSink,
    all_events,
    assertion_claims,
    client_assertion,
    form_basic,
)
from tests.support.data import RSA_CLIENT_KEY
from tests.support.quick import quick_builder
from tests.support.server import Server, basic, running

OWNER = basic("m2m.reference", "secret")


async def issue(server: Server, client_id: str = "m2m.reference") -> str:
    response = await server.token(
        {"grant_type": "client_credentials", "scope": "api1"}, headers=basic(client_id, "secret")
    )
    assert response.status_code == 200
    return response.json()["access_token"]


async def revoke(server: Server, token: str, headers: dict[str, str] | None = OWNER, **extra: str):
    return await server.client.post("/connect/revocation", data={"token": token, **extra}, headers=headers)


async def is_active(server: Server, token: str) -> bool:
    response = await server.client.post(
        "/connect/introspect", data={"token": token}, headers=form_basic("urn:api1", "api1-secret")
    )
    return bool(response.json()["active"])


async def stored_reference_tokens(server: Server) -> int:
    grants = await server.services.persisted_grants.get_all(PersistedGrantFilter(client_id="m2m.reference"))
    return len(grants)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with running(await quick_builder()) as srv:
        yield srv


async def test_revoking_a_reference_token_makes_it_inactive_and_deletes_it(server):
    token = await issue(server)
    assert await is_active(server, token)
    response = await revoke(server, token)
    assert response.status_code == 200
    assert response.content == b""
    assert not await is_active(server, token)
    assert await stored_reference_tokens(server) == 0


@pytest.mark.parametrize("hint", ["access_token", "refresh_token"])
async def test_reference_token_is_revoked_whatever_the_known_hint(server, hint):
    token = await issue(server)
    assert (await revoke(server, token, token_type_hint=hint)).status_code == 200
    assert not await is_active(server, token)


async def test_revoking_twice_answers_200_both_times(server):
    token = await issue(server)
    assert (await revoke(server, token)).status_code == 200
    assert (await revoke(server, token)).status_code == 200


@pytest.mark.parametrize("token", ["unknown", "A" * 64 + "-1", "a.b.c", "x" * 5000])
async def test_unknown_or_invalid_token_answers_200_and_changes_nothing(server, token):
    mine = await issue(server)
    response = await revoke(server, token)
    assert response.status_code == 200
    assert await is_active(server, mine)
    assert await stored_reference_tokens(server) == 1


async def test_another_clients_token_answers_200_but_stays_valid(server):
    token = await issue(server)
    response = await revoke(server, token, basic("m2m", "secret"))
    assert response.status_code == 200
    assert await is_active(server, token)


async def test_jwt_access_token_cannot_be_revoked_and_stays_valid(server):
    token = await issue(server, "m2m")
    response = await revoke(server, token, basic("m2m", "secret"))
    assert response.status_code == 200
    assert await is_active(server, token)


async def test_expired_reference_token_answers_200(server):
    token = await issue(server)
    server.clock.advance(3601)
    assert (await revoke(server, token)).status_code == 200


async def test_unsupported_token_type_hint_is_rejected_and_revokes_nothing(server):
    token = await issue(server)
    response = await revoke(server, token, token_type_hint="id_token")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_token_type"
    assert await is_active(server, token)


async def test_missing_token_is_invalid_request(server):
    response = await server.client.post("/connect/revocation", data={"token_type_hint": "access_token"}, headers=OWNER)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "headers",
    [
        basic("m2m.reference", "wrong"),
        basic("nobody", "secret"),
        basic("m2m.disabled", "secret"),
        {"Authorization": "Basic !!!"},
        None,
    ],
)
async def test_bad_client_credentials_are_401_and_revoke_nothing(server, headers):
    token = await issue(server)
    response = await revoke(server, token, headers)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")
    assert await is_active(server, token)


async def test_client_secret_post_is_accepted(server):
    token = await issue(server)
    response = await revoke(server, token, None, client_id="m2m.reference", client_secret="secret")
    assert response.status_code == 200
    assert not await is_active(server, token)


async def test_private_key_jwt_client_can_authenticate(server):
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server))
    response = await revoke(server, "unknown", None, client_assertion_type=ASSERTION_TYPE, client_assertion=assertion)
    assert response.status_code == 200


async def test_public_client_authenticates_with_its_client_id_only(server):
    response = await revoke(server, "unknown", None, client_id="public")
    assert response.status_code == 200


async def test_get_is_405(server):
    response = await server.client.get("/connect/revocation", params={"token": "x"}, headers=OWNER)
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


async def test_json_body_is_415_and_revokes_nothing(server):
    token = await issue(server)
    response = await server.client.post("/connect/revocation", json={"token": token}, headers=OWNER)
    assert response.status_code == 415
    assert await is_active(server, token)


async def test_duplicate_token_parameter_is_invalid_request_and_revokes_nothing(server):
    token = await issue(server)
    body = f"token={token}&token=other".encode()
    response = await server.client.post("/connect/revocation", content=body, headers={**OWNER, **FORM})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert await is_active(server, token)


async def test_revocation_raises_an_event_only_when_something_was_revoked():
    sink = RecordingEventSink()
    builder = await quick_builder(options=all_events())
    builder.add_event_sink(sink)
    async with running(builder) as srv:
        token = await issue(srv)
        await revoke(srv, "unknown")
        await revoke(srv, token)
    events = sink.of_type(TokenRevokedSuccessEvent)
    assert len(events) == 1
    assert events[0].client_id == "m2m.reference"
    assert events[0].token_type == "access_token"
    assert token not in str(events[0].to_dict())
