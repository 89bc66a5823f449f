"""Token endpoint, ``password`` grant (RFC 6749 §4.3; duende §1.2: only with a resource-owner password
validator, test users register one; security.md 1.4)."""

from __future__ import annotations

import pytest

from identityserver.models.claims import Claim, Principal
from identityserver.validation.protocols import GrantValidationResult, ResourceOwnerPasswordValidationContext
from tests.support.browser import refresh
from tests.support.client_auth import jwt_parts
from tests.support.data import test_configuration as configuration_with
from tests.support.server import Server, basic, make_builder, running


async def password_grant(server: Server, client_id: str = "ropc", **fields: str):
    return await server.token({"grant_type": "password", **fields}, headers=basic(client_id, "secret"))


async def test_valid_credentials_give_an_access_token_for_the_user(server):
    response = await password_grant(server, username="alice", password="alice", scope="openid profile api1")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "openid profile api1"
    assert "refresh_token" not in body and "id_token" not in body
    claims = jwt_parts(body["access_token"])[1]
    assert claims["sub"] == "1" and claims["client_id"] == "ropc"
    assert claims["amr"] == ["pwd"] and claims["idp"] == "local"
    assert claims["auth_time"] == int(server.clock.timestamp())
    info = await server.client.get("/connect/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200 and info.json()["name"] == "Alice Smith"


async def test_username_is_matched_case_insensitively(server):
    response = await password_grant(server, username="ALICE", password="alice", scope="api1")
    assert response.status_code == 200, response.text


async def test_missing_scope_means_every_allowed_scope_except_offline_access(server):
    response = await password_grant(server, username="alice", password="alice")
    assert response.status_code == 200, response.text
    assert set(response.json()["scope"].split()) == {"openid", "profile", "api1"}
    assert "refresh_token" not in response.json()


async def test_offline_access_gives_a_refresh_token_that_works(server):
    response = await password_grant(server, username="alice", password="alice", scope="api1 offline_access")
    body = response.json()
    assert "refresh_token" in body
    refreshed = await refresh(server.client, "ropc", body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert jwt_parts(refreshed.json()["access_token"])[1]["sub"] == "1"


async def test_unknown_user_and_wrong_password_get_the_same_answer(server):
    wrong = await password_grant(server, username="alice", password="nope", scope="api1")
    unknown = await password_grant(server, username="mallory", password="nope", scope="api1")
    assert wrong.status_code == unknown.status_code == 400
    assert (
        wrong.json()
        == unknown.json()
        == {"error": "invalid_grant", "error_description": "invalid_username_or_password"}
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"password": "alice"},
        {"username": "", "password": "alice"},
        {"username": "alice"},
        {"username": "alice", "password": ""},
        {"username": "a" * 101, "password": "alice"},
        {"username": "alice", "password": "a" * 101},
    ],
)
async def test_missing_empty_or_oversized_credentials_are_invalid_grant(server, fields):
    response = await password_grant(server, scope="api1", **fields)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_inactive_user_cannot_get_tokens(server):
    user = await server.services.users.find_by_username("alice")
    user.is_active = False
    response = await password_grant(server, username="alice", password="alice", scope="api1")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("scope", ["api2", "unknown", "email"])
async def test_scope_the_client_may_not_request_is_invalid_scope(server, scope):
    response = await password_grant(server, username="alice", password="alice", scope=scope)
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


async def test_client_not_allowed_the_password_grant_is_unauthorized_client(server):
    response = await password_grant(server, "web", username="alice", password="alice", scope="api1")
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"


async def test_client_must_authenticate(server):
    response = await server.token(
        {"grant_type": "password", "username": "alice", "password": "alice", "client_id": "ropc"}
    )
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


async def test_without_a_password_validator_the_grant_is_unsupported():
    config = configuration_with()
    config.users = []
    async with running(make_builder(config)) as server:
        response = await password_grant(server, username="alice", password="alice", scope="api1")
        assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"
        discovery = (await server.client.get("/.well-known/openid-configuration")).json()
        assert "password" not in discovery["grant_types_supported"]


class FixedValidator:
    """A custom resource-owner validator: 'bob' / 'builder' is user 42; errors carry a custom member."""

    async def validate(self, context: ResourceOwnerPasswordValidationContext) -> None:
        if context.username == "bob" and context.password == "builder":
            context.result = GrantValidationResult(
                Principal(
                    [
                        Claim("sub", "42"),
                        Claim("auth_time", "1767268800", "integer"),
                        Claim("amr", "otp"),
                        Claim("idp", "local"),
                    ]
                ),
                custom_response={"welcome": "bob"},
            )
        else:
            context.result = GrantValidationResult(
                error="invalid_grant", error_description="no", custom_response={"hint": "ask bob"}
            )


async def test_registered_password_validator_is_used_with_its_custom_response():
    config = configuration_with()
    config.users = []
    async with running(make_builder(config).add_resource_owner_validator(FixedValidator())) as server:
        response = await password_grant(server, username="bob", password="builder", scope="api1")
        assert response.status_code == 200, response.text
        assert response.json()["welcome"] == "bob"
        claims = jwt_parts(response.json()["access_token"])[1]
        assert claims["sub"] == "42" and claims["amr"] == ["otp"]
        refused = await password_grant(server, username="alice", password="alice", scope="api1")
        assert refused.status_code == 400
        assert refused.json() == {"error": "invalid_grant", "error_description": "no", "hint": "ask bob"}
