"""Introspection endpoint (RFC 7662; duende §1.1: callers are API resources with API secrets; security.md 1.8)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest

from identityserver.crypto.jwt import encode_jws
from identityserver.events import (
    ApiAuthenticationFailureEvent,
    TokenIntrospectionFailureEvent,
    TokenIntrospectionSuccessEvent,
)
from tests.support.client_auth import RecordingEventSink, all_events, configuration, form_basic, jwt_parts
from tests.support.data import RSA_CLIENT_KEY
from tests.support.quick import quick_builder
from tests.support.server import Server, basic, running

API1 = form_basic("urn:api1", "api1-secret")
API2 = form_basic("urn:api2", "api2-secret")


async def issue(server: Server, client_id: str = "m2m", scope: str = "api1") -> str:
    response = await server.token(
        {"grant_type": "client_credentials", "scope": scope}, headers=basic(client_id, "secret")
    )
    assert response.status_code == 200
    return response.json()["access_token"]


async def introspect(server: Server, token: str, headers: dict[str, str] | None = API1, **extra: str):
    return await server.client.post("/connect/introspect", data={"token": token, **extra}, headers=headers)


async def signed_like_this_server(server: Server, **claims) -> str:
    """A JWT signed with this server's own current key, with chosen claims."""
    key = await server.services.key_material.get_signing_credentials()
    now = int(server.clock.timestamp())
    payload = {
        "iss": server.issuer,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "aud": "urn:api1",
        "client_id": "m2m",
        "sub": "m2m",
        "scope": "api1",
        "jti": uuid.uuid4().hex,
    }
    payload.update(claims)
    return encode_jws({"alg": key.algorithm, "kid": key.id, "typ": "at+jwt"}, payload, key.private_key)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with running(await quick_builder()) as srv:
        yield srv


async def test_active_jwt_is_described_with_its_claims(server):
    token = await issue(server)
    response = await introspect(server, token)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    claims = jwt_parts(token)[1]
    assert body["active"] is True
    assert body["client_id"] == "m2m"
    assert body["scope"] == "api1"
    assert body["iss"] == server.issuer
    assert body["exp"] == claims["exp"]
    assert body["jti"] == claims["jti"]
    assert body["aud"] == "urn:api1"


async def test_api_secret_in_the_post_body_is_accepted(server):
    token = await issue(server)
    response = await introspect(server, token, headers=None, client_id="urn:api1", client_secret="api1-secret")
    assert response.status_code == 200
    assert response.json()["active"] is True


async def test_active_reference_token_is_described_with_its_claims(server):
    token = await issue(server, "m2m.reference")
    body = (await introspect(server, token)).json()
    assert body["active"] is True
    assert body["client_id"] == "m2m.reference"
    assert body["scope"] == "api1"
    assert body["exp"] == int(server.clock.timestamp()) + 3600


async def test_scope_is_narrowed_to_the_calling_api(server):
    token = await issue(server, scope="api1 api2")
    assert (await introspect(server, token, API1)).json()["scope"] == "api1"
    assert (await introspect(server, token, API2)).json()["scope"] == "api2"


async def test_token_without_a_scope_of_the_calling_api_is_inactive(server):
    token = await issue(server, scope="api1")
    response = await introspect(server, token, API2)
    assert response.status_code == 200
    assert response.json() == {"active": False}


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "id_token", "anything"])
async def test_token_type_hint_is_ignored(server, hint):
    token = await issue(server)
    assert (await introspect(server, token, token_type_hint=hint)).json()["active"] is True


@pytest.mark.parametrize("client_id", ["m2m", "m2m.reference"])
async def test_expired_token_is_inactive(server, client_id):
    token = await issue(server, client_id)
    server.clock.advance(3600)
    assert (await introspect(server, token)).json() == {"active": False}


async def test_token_just_before_expiry_is_active(server):
    token = await issue(server)
    server.clock.advance(3599)
    assert (await introspect(server, token)).json()["active"] is True


@pytest.mark.parametrize(
    "token",
    [
        "unknown",
        "A" * 64 + "-1",
        "a.b.c",
        "e30.e30.e30",
        "x" * 101,
        "x" * 60000,
        "\u00e9t\u00e9",
    ],
)
async def test_unknown_or_malformed_token_is_inactive_with_no_other_member(server, token):
    response = await introspect(server, token)
    assert response.status_code == 200
    assert response.json() == {"active": False}


async def test_jwt_with_a_tampered_payload_is_inactive(server):
    header, _, signature = (await issue(server)).split(".")
    forged_payload = (await signed_like_this_server(server, scope="api1 api2")).split(".")[1]
    assert (await introspect(server, f"{header}.{forged_payload}.{signature}")).json() == {"active": False}


async def test_jwt_signed_by_a_foreign_key_is_inactive(server):
    key = await server.services.key_material.get_signing_credentials()
    now = int(server.clock.timestamp())
    claims = {"iss": server.issuer, "exp": now + 600, "client_id": "m2m", "scope": "api1"}
    forged = encode_jws({"alg": "RS256", "kid": key.id, "typ": "at+jwt"}, claims, RSA_CLIENT_KEY)
    assert (await introspect(server, forged)).json() == {"active": False}


async def test_unsigned_jwt_is_inactive(server):
    genuine = await signed_like_this_server(server)
    header = json.dumps({"alg": "none", "typ": "at+jwt"}).encode()
    from identityserver._utils.b64 import b64url_encode

    forged = f"{b64url_encode(header)}.{genuine.split('.')[1]}."
    assert (await introspect(server, forged)).json() == {"active": False}


async def test_jwt_from_another_issuer_is_inactive(server):
    token = await signed_like_this_server(server, iss="https://other.example")
    assert (await introspect(server, token)).json() == {"active": False}


async def test_jwt_not_typed_as_an_access_token_is_inactive(server):
    key = await server.services.key_material.get_signing_credentials()
    now = int(server.clock.timestamp())
    claims = {"iss": server.issuer, "exp": now + 600, "client_id": "m2m", "scope": "api1", "aud": "urn:api1"}
    id_token_like = encode_jws({"alg": key.algorithm, "kid": key.id, "typ": "JWT"}, claims, key.private_key)
    assert (await introspect(server, id_token_like)).json() == {"active": False}


async def test_jwt_of_an_unknown_client_is_inactive(server):
    token = await signed_like_this_server(server, client_id="deleted-client")
    assert (await introspect(server, token)).json() == {"active": False}


async def test_control_jwt_signed_like_this_server_is_active(server):
    # the forgeries above differ from this token in one property only
    assert (await introspect(server, await signed_like_this_server(server))).json()["active"] is True


async def test_revoked_reference_token_is_inactive(server):
    token = await issue(server, "m2m.reference")
    revoked = await server.client.post(
        "/connect/revocation", data={"token": token}, headers=basic("m2m.reference", "secret")
    )
    assert revoked.status_code == 200
    assert (await introspect(server, token)).json() == {"active": False}


async def test_missing_token_is_invalid_request(server):
    response = await server.client.post("/connect/introspect", data={"token_type_hint": "access_token"}, headers=API1)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "headers",
    [
        None,
        form_basic("urn:api1", "wrong"),
        form_basic("urn:unknown", "api1-secret"),
        basic("m2m", "wrong"),
        {"Authorization": "Basic !!!"},
    ],
)
async def test_caller_that_does_not_authenticate_is_401(server, headers):
    token = await issue(server)
    response = await introspect(server, token, headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert response.json()["error"] == "invalid_client"
    assert "active" not in response.json()


async def test_an_api_name_with_a_colon_may_come_unencoded_in_basic_credentials(server):
    """Many API clients send ``urn:api1:secret`` without form-encoding the name (RFC 6749 §2.3.1 wants it encoded):
    the split that names an API is the one used, and only its own secret passes."""
    token = await issue(server)
    response = await introspect(server, token, basic("urn:api1", "api1-secret"))
    assert response.status_code == 200
    assert response.json()["active"] is True
    wrong = await introspect(server, token, basic("urn:api1", "api2-secret"))
    assert wrong.status_code == 401


async def test_a_disabled_api_cannot_introspect():
    config = configuration(
        """
[[clients]]
client_id = "m2m"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["s1"]

[[api_scopes]]
name = "s1"

[[api_resources]]
name = "off-api"
enabled = false
scopes = ["s1"]
api_secrets = ["off-secret"]
"""
    )
    async with running(await quick_builder(config)) as srv:
        token = await issue(srv, scope="s1")
        response = await introspect(srv, token, basic("off-api", "off-secret"))
        assert response.status_code == 401
        assert "active" not in response.json()


async def test_client_caller_learns_nothing_about_an_access_token(server):
    """Access tokens are introspected by the APIs they are for, never by clients (duende §6 item 13)."""
    token = await issue(server)
    response = await introspect(server, token, basic("m2m", "secret"))
    assert response.status_code == 200
    assert response.json() == {"active": False}


async def test_get_is_405(server):
    response = await server.client.get("/connect/introspect", params={"token": "x"}, headers=API1)
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


async def test_json_body_is_415(server):
    response = await server.client.post("/connect/introspect", json={"token": "x"}, headers=API1)
    assert response.status_code == 415


async def test_duplicate_token_parameter_is_invalid_request(server):
    response = await server.client.post(
        "/connect/introspect",
        content=b"token=a&token=b",
        headers={**API1, "content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_introspection_raises_events_naming_the_api():
    sink = RecordingEventSink()
    builder = await quick_builder(options=all_events())
    builder.add_event_sink(sink)
    async with running(builder) as srv:
        token = await issue(srv)
        await introspect(srv, token)
        await introspect(srv, "unknown")
        await introspect(srv, token, form_basic("urn:api1", "wrong"))
    assert [e.is_active for e in sink.of_type(TokenIntrospectionSuccessEvent)] == [True]
    assert [e.is_active for e in sink.of_type(TokenIntrospectionFailureEvent)] == [False]
    assert {e.caller for e in sink.of_type(TokenIntrospectionSuccessEvent)} == {"urn:api1"}
    assert len(sink.of_type(ApiAuthenticationFailureEvent)) == 1


async def test_api_with_only_an_expired_secret_cannot_introspect():
    config = configuration(
        """
[[clients]]
client_id = "m2m"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["old"]

[[api_scopes]]
name = "old"

[[api_resources]]
name = "old-api"
scopes = ["old"]
api_secrets = [{ value = "old-secret", expiration = 2020-01-01T00:00:00Z }]
"""
    )
    async with running(await quick_builder(config)) as srv:
        token = await issue(srv, scope="old")
        response = await introspect(srv, token, basic("old-api", "old-secret"))
        assert response.status_code == 401
        assert "active" not in response.json()
