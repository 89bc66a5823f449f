"""``TokenResponseGenerator.process_token_request`` runs for every grant except ``refresh_token`` (duende §1.22,
§6 item 8; DuendeSoftware/IdentityServer#1178), and a subclass registered with ``builder.override`` replaces it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from identityserver.response_handling.models import TokenResponse
from identityserver.response_handling.token import TokenResponseGenerator
from identityserver.validation.results import TokenRequestValidationResult
from tests.support.browser import obtain_code, redeem, refresh
from tests.support.server import Server, basic, make_builder, running


class RecordingGenerator(TokenResponseGenerator):
    """Records the grant of every call and marks the response it built."""

    calls: list[str] = []

    async def process_token_request(self, result: TokenRequestValidationResult) -> TokenResponse:
        assert result.validated_request is not None
        grant_type = result.validated_request.grant_type
        type(self).calls.append(grant_type)
        response = await super().process_token_request(result)
        response.custom["processed_by"] = grant_type
        return response


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    RecordingGenerator.calls = []
    async with running(make_builder().override(TokenResponseGenerator, RecordingGenerator)) as srv:
        yield srv


async def test_process_token_request_runs_for_the_authorization_code_grant(server):
    grant = await obtain_code(server.client)
    response = await redeem(server.client, grant)
    assert response.status_code == 200, response.text
    assert RecordingGenerator.calls == ["authorization_code"]
    body = response.json()
    assert body["processed_by"] == "authorization_code"
    assert "id_token" in body and "refresh_token" in body  # the code flow still adds its own parts


async def test_process_token_request_runs_for_the_password_grant(server):
    response = await server.token(
        {"grant_type": "password", "username": "alice", "password": "alice", "scope": "api1"},
        headers=basic("ropc", "secret"),
    )
    assert response.status_code == 200, response.text
    assert RecordingGenerator.calls == ["password"]
    assert response.json()["processed_by"] == "password"


async def test_process_token_request_runs_for_the_client_credentials_grant(server):
    response = await server.token({"grant_type": "client_credentials", "scope": "api1"}, headers=basic("m2m", "secret"))
    assert response.status_code == 200, response.text
    assert RecordingGenerator.calls == ["client_credentials"]
    assert response.json()["processed_by"] == "client_credentials"


async def test_process_token_request_does_not_run_for_the_refresh_token_grant(server):
    grant = await obtain_code(server.client)
    first = (await redeem(server.client, grant)).json()
    RecordingGenerator.calls.clear()
    response = await refresh(server.client, "web", first["refresh_token"])
    assert response.status_code == 200, response.text
    assert RecordingGenerator.calls == []
    assert "processed_by" not in response.json()


async def test_failed_requests_never_reach_process_token_request(server):
    response = await server.token(
        {"grant_type": "password", "username": "alice", "password": "wrong", "scope": "api1"},
        headers=basic("ropc", "secret"),
    )
    assert response.status_code == 400
    assert RecordingGenerator.calls == []


async def test_override_must_subclass_the_stage():
    with pytest.raises(TypeError):
        make_builder().override(TokenResponseGenerator, object)
