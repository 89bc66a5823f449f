"""The device authorization endpoint (RFC 8628 §3.1-§3.2; duende §1.12; security.md 112): the response, the
user code formats (RFC 8628 §6.1), Duende's default scopes, and every error with nothing stored."""

from __future__ import annotations

import re
import tomllib

import pytest

from identityserver.configuration.errors import ConfigError
from identityserver.configuration.loader import parse_configuration
from identityserver.events import DeviceAuthorizationFailureEvent, DeviceAuthorizationSuccessEvent
from identityserver.services.device_flow import hash_device_code
from identityserver.services.protocols import EventSink
from identityserver.services.user_codes import BASE20_ALPHABET
from tests.device_flow.support import SECRET_AUTH, authorize_device, device_builder, device_server
from tests.support.client_auth import RecordingEventSink
from tests.support.server import ISSUER, running

ENDPOINT = "/connect/deviceauthorization"


async def test_response_has_every_member_with_identityserver_defaults() -> None:
    async with device_server() as (server, store):
        response = await server.client.post(ENDPOINT, data={"client_id": "tv", "scope": "openid api1"})
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert re.fullmatch(r"[1-9]\d{8}", body["user_code"])  # IdentityServer's numeric 9 digits
        assert len(body["device_code"]) >= 43  # >= 128 bits (RFC 8628 §5.2)
        assert body["verification_uri"] == f"{ISSUER}/device"
        assert body["verification_uri_complete"] == f"{ISSUER}/device?userCode={body['user_code']}"
        assert body["expires_in"] == 300
        assert body["interval"] == 5
        [(stored_device_code, data)] = store.all()
        assert stored_device_code == hash_device_code(body["device_code"])  # only the hash is stored
        assert data.client_id == "tv" and data.requested_scopes == ["openid", "api1"] and data.is_open_id
        assert await store.find_by_user_code(body["user_code"]) == data


async def test_base20_user_codes_and_the_client_lifetime() -> None:
    async with device_server() as (server, store):
        body = await authorize_device(server, auth=SECRET_AUTH, scope="api1")
        assert re.fullmatch(f"[{BASE20_ALPHABET}]{{4}}-[{BASE20_ALPHABET}]{{4}}", body["user_code"])
        assert body["expires_in"] == 60
        assert await store.find_by_user_code(body["user_code"].replace("-", "")) is not None


async def test_default_user_code_type_option_selects_base20() -> None:
    async with device_server('[options.device_flow]\ndefault_user_code_type = "base20"\ninterval = 7\n') as (
        server,
        _,
    ):
        body = await authorize_device(server, scope="api1")
        assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", body["user_code"])
        assert body["interval"] == 7


async def test_user_codes_are_unique_and_random() -> None:
    async with device_server() as (server, store):
        codes = {(await authorize_device(server, scope="api1"))["user_code"] for _ in range(30)}
        assert len(codes) == 30 and len(store.all()) == 30


async def test_without_scope_the_client_allowed_scopes_and_offline_access_are_requested() -> None:
    async with device_server() as (server, store):
        await authorize_device(server)
        [(_, data)] = store.all()
        assert data.requested_scopes == ["openid", "profile", "api1", "offline_access"]


async def test_discovery_advertises_the_endpoint_and_the_grant() -> None:
    async with device_server() as (server, _):
        doc = (await server.client.get("/.well-known/openid-configuration")).json()
        assert doc["device_authorization_endpoint"] == f"{ISSUER}{ENDPOINT}"
        assert "urn:ietf:params:oauth:grant-type:device_code" in doc["grant_types_supported"]


async def test_the_endpoint_can_be_switched_off() -> None:
    async with device_server("[options.endpoints]\nenable_device_authorization_endpoint = false\n") as (server, _):
        doc = (await server.client.get("/.well-known/openid-configuration")).json()
        assert "device_authorization_endpoint" not in doc
        assert (await server.client.post(ENDPOINT, data={"client_id": "tv"})).status_code == 404


@pytest.mark.parametrize(
    ("data", "auth", "status", "error"),
    [
        ({"client_id": "nobody"}, None, 400, "invalid_client"),
        ({"client_id": "tv.secret"}, None, 400, "invalid_client"),  # confidential without its secret
        ({"scope": "api1"}, ("tv.secret", "wrong"), 401, "invalid_client"),
        ({"client_id": "public"}, None, 400, "unauthorized_client"),  # no device grant
        ({"client_id": "tv", "scope": "nope"}, None, 400, "invalid_scope"),
        ({"client_id": "tv", "scope": "isolated.scope"}, None, 400, "invalid_scope"),  # not allowed
        ({"client_id": "tv", "scope": "profile api1"}, None, 400, "invalid_scope"),  # identity without openid
        ({"client_id": "tv", "scope": "api1 " * 100}, None, 400, "invalid_scope"),  # over 300 characters
        ({"client_id": "tv", "scope": "api1\x01"}, None, 400, "invalid_scope"),
        ({"client_id": "tv.noscopes"}, None, 400, "invalid_scope"),  # nothing to default to
        ({"client_id": "tv", "scope": "api1", "resource": "urn:api1"}, None, 400, "invalid_target"),
        ({"client_id": "x" * 101}, None, 400, "invalid_client"),
    ],
)
async def test_bad_requests_get_the_spec_error_and_store_nothing(data, auth, status, error) -> None:
    async with device_server() as (server, store):
        response = await server.client.post(ENDPOINT, data=data, auth=auth)
        assert response.status_code == status, response.text
        assert response.json()["error"] == error
        assert response.json().get("error_description")
        assert store.all() == []


async def test_wrong_method_content_type_and_repeated_parameters() -> None:
    async with device_server() as (server, store):
        assert (await server.client.get(ENDPOINT, params={"client_id": "tv"})).status_code == 405
        json_body = await server.client.post(ENDPOINT, json={"client_id": "tv"})
        assert json_body.status_code == 400 and json_body.json()["error"] == "invalid_request"
        repeated = await server.client.post(
            ENDPOINT,
            content="client_id=tv&scope=api1&scope=openid",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert repeated.status_code == 400 and repeated.json()["error"] == "invalid_request"
        assert store.all() == []


async def test_success_and_failure_raise_the_device_events() -> None:
    builder, _ = device_builder("[options.events]\nraise_success_events = true\nraise_failure_events = true\n")
    sink = RecordingEventSink()
    builder.add(EventSink, sink)
    async with running(builder) as server:
        await authorize_device(server, scope="api1")
        await server.client.post(ENDPOINT, data={"client_id": "tv", "scope": "nope"})
    [success] = sink.of_type(DeviceAuthorizationSuccessEvent)
    assert (success.client_id, success.client_name, success.scopes) == ("tv", "Living-room TV", "api1")
    [failure] = sink.of_type(DeviceAuthorizationFailureEvent)
    assert failure.client_id == "tv" and failure.error == "invalid_scope"


@pytest.mark.parametrize(
    ("toml", "field"),
    [
        ('default_user_code_type = "words"', "default_user_code_type"),
        ("interval = 0", "interval"),
        ("user_code_failures_per_session = 0", "user_code_failures_per_session"),
    ],
)
def test_bad_device_flow_options_are_refused_naming_the_field(toml: str, field: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_configuration(tomllib.loads(f"[options.device_flow]\n{toml}\n"), "server.toml")
    assert "[options.device_flow]" in str(raised.value) and field in str(raised.value)
