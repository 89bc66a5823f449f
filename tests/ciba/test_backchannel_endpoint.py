"""``/connect/ciba`` request validation over HTTP (CIBA Core §7.1, §7.3, §13): every error code, and a refused
request stores nothing."""

from __future__ import annotations

from typing import Any

import pytest

from identityserver.models.backchannel_authentication import (
    BackchannelAuthenticationUserValidationResult,
    BackchannelAuthenticationUserValidatorContext,
    BackchannelUserLoginRequest,
)
from identityserver.models.claims import Claim, Principal
from identityserver.models.grants import PersistedGrantFilter
from identityserver.services.backchannel_authentication import (
    BackchannelAuthenticationUserNotificationService,
    BackchannelAuthenticationUserValidator,
)
from tests.ciba.support import backchannel, ciba_builder, poll, start
from tests.support.browser import Browser, code_request, complete_authorize, redirect_parameters
from tests.support.server import Server, running

GOOD = {"scope": "openid api1", "login_hint": "alice"}


async def stored_requests(server: Server) -> int:
    return len(await server.services.persisted_grants.get_all(PersistedGrantFilter(type="ciba")))


async def expect_error(
    server: Server, data: dict[str, Any], error: str, client_id: str = "ciba", status: int = 400
) -> str:
    before = await stored_requests(server)
    response = await backchannel(server, data, client_id)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    assert body.get("error_description")
    assert await stored_requests(server) == before
    return str(body["error_description"])


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"login_hint": "alice"}, "invalid_request"),  # no scope
        ({"scope": "api1", "login_hint": "alice"}, "invalid_request"),  # no openid
        ({"scope": "openid " + "x" * 300, "login_hint": "alice"}, "invalid_request"),
        ({"scope": "openid unknown", "login_hint": "alice"}, "invalid_scope"),
        ({"scope": "openid api2", "login_hint": "alice"}, "invalid_scope"),  # not allowed for the client
        ({**GOOD, "resource": "not-a-uri"}, "invalid_target"),
        ({**GOOD, "resource": "https://x.example/" + "a" * 520}, "invalid_target"),
        ({**GOOD, "resource": "urn:unknown"}, "invalid_target"),
        ({"scope": "openid api1"}, "invalid_request"),  # no hint
        ({**GOOD, "login_hint_token": "t"}, "invalid_request"),  # two hints
        ({**GOOD, "id_token_hint": "t"}, "invalid_request"),
        ({"scope": "openid", "login_hint": "a" * 101}, "invalid_request"),
        ({"scope": "openid", "login_hint_token": "a" * 4001}, "invalid_request"),
        ({"scope": "openid", "id_token_hint": "a" * 4001}, "invalid_request"),
        ({"scope": "openid", "id_token_hint": "not.a.token"}, "invalid_request"),
        ({**GOOD, "acr_values": "a" * 301}, "invalid_request"),
        ({**GOOD, "requested_expiry": "0"}, "invalid_request"),
        ({**GOOD, "requested_expiry": "-5"}, "invalid_request"),
        ({**GOOD, "requested_expiry": "soon"}, "invalid_request"),
        ({**GOOD, "requested_expiry": "301"}, "invalid_request"),
        ({**GOOD, "binding_message": "b" * 101}, "invalid_binding_message"),
        ({**GOOD, "binding_message": "line\nbreak"}, "invalid_binding_message"),
        ({**GOOD, "user_code": "u" * 101}, "invalid_request"),
        ({"scope": "openid", "login_hint": "nobody"}, "unknown_user_id"),
        ({"scope": "openid", "login_hint": "carol"}, "unknown_user_id"),  # inactive
        ({"scope": "openid", "login_hint_token": "eyJ.e30.x"}, "unknown_user_id"),  # no validator for it
        ({"scope": "openid", "login_hint": "bob", "user_code": "0000"}, "invalid_user_code"),
    ],
)
async def test_bad_requests_get_the_ciba_error_and_store_nothing(data: dict[str, Any], error: str) -> None:
    async with running(ciba_builder()) as server:
        await expect_error(server, data, error)


async def test_user_code_required_by_the_client() -> None:
    async with running(ciba_builder()) as server:
        await expect_error(server, {"scope": "openid", "login_hint": "bob"}, "missing_user_code", "ciba.strict")
        ok = await backchannel(server, {"scope": "openid", "login_hint": "bob", "user_code": "4242"}, "ciba.strict")
        assert ok.status_code == 200
        await expect_error(server, {**GOOD, "requested_expiry": "121"}, "invalid_request", "ciba.strict")


async def test_client_authentication_and_grant_permission() -> None:
    async with running(ciba_builder()) as server:
        wrong = await backchannel(server, GOOD, secret="wrong")
        assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
        assert wrong.headers["www-authenticate"].startswith("Basic")
        anonymous = await server.client.post("/connect/ciba", data={**GOOD, "client_id": "ciba"})
        assert (anonymous.status_code, anonymous.json()["error"]) == (401, "invalid_client")
        await expect_error(server, GOOD, "unauthorized_client", client_id="m2m")


async def test_method_content_type_and_repeated_parameters() -> None:
    async with running(ciba_builder()) as server:
        get = await server.client.get("/connect/ciba")
        assert get.status_code == 405
        json_body = await server.client.post("/connect/ciba", json=GOOD, auth=("ciba", "secret"))
        assert (json_body.status_code, json_body.json()["error"]) == (400, "invalid_request")
        repeated = await server.client.post(
            "/connect/ciba",
            content="scope=openid&login_hint=alice&login_hint=bob",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=("ciba", "secret"),
        )
        assert (repeated.status_code, repeated.json()["error"]) == (400, "invalid_request")
        assert await stored_requests(server) == 0


async def test_requested_expiry_resource_and_acr_values_are_kept() -> None:
    async with running(ciba_builder()) as server:
        response = await backchannel(
            server,
            {**GOOD, "requested_expiry": "30", "resource": "urn:api1", "acr_values": "urn:mace:pwd tenant:acme"},
        )
        assert response.status_code == 200
        assert response.json()["expires_in"] == 30
        interaction = server.services.backchannel_authentication
        assert interaction is not None
        [login] = await interaction.get_pending_login_requests_for_user("1")
        assert login.requested_resource_indicators == ["urn:api1"]
        assert login.tenant == "acme"
        assert login.authentication_context_reference_classes == ["urn:mace:pwd", "tenant:acme"]


async def test_id_token_hint_of_this_server_names_the_user() -> None:
    builder = ciba_builder(
        """
[[clients]]
client_id = "web.ciba"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code", "urn:openid:params:grant-type:ciba"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "api1"]
"""
    )
    async with running(builder) as server:
        params, verifier = code_request(client_id="web.ciba", scope="openid")
        redirect = await complete_authorize(Browser(server.client), params)
        code = redirect_parameters(redirect)["code"]
        tokens = await server.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "https://web.example/cb",
                "code_verifier": verifier,
            },
            auth=("web.ciba", "secret"),
        )
        id_token = tokens.json()["id_token"]
        ok = await backchannel(server, {"scope": "openid", "id_token_hint": id_token}, "web.ciba")
        assert ok.status_code == 200, ok.text
        interaction = server.services.backchannel_authentication
        assert interaction is not None
        [login] = await interaction.get_pending_login_requests_for_user("1")
        assert login.client.client_id == "web.ciba"
        # an ID token issued to another client is not a hint for this one
        foreign = await backchannel(server, {"scope": "openid", "id_token_hint": id_token}, "ciba")
        assert (foreign.status_code, foreign.json()["error"]) == (400, "invalid_request")


async def test_discovery_advertises_what_is_built() -> None:
    async with running(ciba_builder()) as server:
        doc = (await server.client.get("/.well-known/openid-configuration")).json()
        assert doc["backchannel_authentication_endpoint"] == "https://idp.example/connect/ciba"
        assert doc["backchannel_token_delivery_modes_supported"] == ["poll", "ping"]
        assert doc["backchannel_user_code_parameter_supported"] is True
        assert "urn:openid:params:grant-type:ciba" in doc["grant_types_supported"]
        assert "RS256" in doc["backchannel_authentication_request_signing_alg_values_supported"]


async def test_disabled_endpoint_leaves_discovery_and_the_grant() -> None:
    from dataclasses import replace

    builder = ciba_builder()
    options = builder.options
    builder.options = replace(
        options, endpoints=replace(options.endpoints, enable_backchannel_authentication_endpoint=False)
    )
    async with running(builder) as server:
        doc = (await server.client.get("/.well-known/openid-configuration")).json()
        assert "backchannel_authentication_endpoint" not in doc
        assert "backchannel_token_delivery_modes_supported" not in doc
        assert "urn:openid:params:grant-type:ciba" not in doc["grant_types_supported"]
        assert (await server.client.post("/connect/ciba", data=GOOD, auth=("ciba", "secret"))).status_code == 404
        refused = await poll(server, "x")
        assert refused.json()["error"] == "unsupported_grant_type"


async def test_login_hint_may_be_the_subject_id() -> None:
    async with running(ciba_builder()) as server:
        assert await start(server, login_hint="2", user_code="4242")


async def test_public_clients_cannot_start_backchannel_requests() -> None:
    builder = ciba_builder(
        """
[[clients]]
client_id = "ciba.public"
require_client_secret = false
allowed_grant_types = ["urn:openid:params:grant-type:ciba"]
allowed_scopes = ["openid"]
"""
    )
    async with running(builder) as server:
        response = await server.client.post(
            "/connect/ciba", data={**GOOD, "scope": "openid", "client_id": "ciba.public"}
        )
        assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
        assert await stored_requests(server) == 0


class TokenHintUsers:
    """A user validator of a host's own: login_hint_token is a ticket of its SMS gateway."""

    async def validate_request(
        self, context: BackchannelAuthenticationUserValidatorContext
    ) -> BackchannelAuthenticationUserValidationResult:
        if context.login_hint_token == "expired":
            return BackchannelAuthenticationUserValidationResult(
                error="expired_login_hint_token", error_description="the ticket expired"
            )
        if context.login_hint_token == "blocked":
            return BackchannelAuthenticationUserValidationResult(
                error="access_denied", error_description="this user may not be asked"
            )
        return BackchannelAuthenticationUserValidationResult(Principal([Claim("sub", "1")]))


class RecordingNotifications:
    def __init__(self) -> None:
        self.sent: list[BackchannelUserLoginRequest] = []

    async def send_login_request(self, request: BackchannelUserLoginRequest) -> None:
        self.sent.append(request)


async def test_a_custom_user_validator_and_notification_service() -> None:
    builder = ciba_builder()
    notifications = RecordingNotifications()
    builder.add(BackchannelAuthenticationUserValidator, TokenHintUsers())
    builder.add(BackchannelAuthenticationUserNotificationService, notifications)
    async with running(builder) as server:
        await expect_error(server, {"scope": "openid", "login_hint_token": "expired"}, "expired_login_hint_token")
        await expect_error(server, {"scope": "openid", "login_hint_token": "blocked"}, "access_denied", status=403)
        assert notifications.sent == []
        response = await backchannel(
            server, {"scope": "openid api1", "login_hint_token": "ok", "binding_message": "1234"}
        )
        assert response.status_code == 200
        [sent] = notifications.sent
        assert (sent.subject.subject_id, sent.binding_message, sent.client.client_id) == ("1", "1234", "ciba")
        assert sent.requested_scopes == ["openid", "api1"]
