"""Events as values (Duende ``Events/*.cs``): one class per event type with IdentityServer's ids, the event
service's switches, typed events reaching a sink, and the logging sink's JSON shape."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from identityserver.events import (
    EVENT_TYPES,
    ApiAuthenticationFailureEvent,
    ApiAuthenticationSuccessEvent,
    BackchannelAuthenticationFailureEvent,
    BackchannelAuthenticationSuccessEvent,
    ClientAuthenticationFailureEvent,
    ClientAuthenticationSuccessEvent,
    ConsentDeniedEvent,
    ConsentGrantedEvent,
    DeviceAuthorizationFailureEvent,
    DeviceAuthorizationSuccessEvent,
    Event,
    EventCategories,
    EventTypes,
    GrantsRevokedEvent,
    InvalidClientConfigurationEvent,
    IssuedToken,
    TokenExchangeFailureEvent,
    TokenExchangeSuccessEvent,
    TokenIntrospectionFailureEvent,
    TokenIntrospectionSuccessEvent,
    TokenIssuedFailureEvent,
    TokenIssuedSuccessEvent,
    TokenRevokedSuccessEvent,
    UnhandledExceptionEvent,
    UserLoginFailureEvent,
    UserLoginSuccessEvent,
    UserLogoutSuccessEvent,
    issued_tokens,
)
from identityserver.hosting.middleware import IdentityServerMiddleware
from identityserver.hosting.router import Endpoint, EndpointRouter
from identityserver.http.request import EndpointRequest
from identityserver.options import EventsOptions, IdentityServerOptions
from identityserver.services.events import DefaultEventService, LoggingEventSink
from tests.support.browser import Browser, authorize_path, code_request, redirect_parameters
from tests.support.client_auth import RecordingEventSink, all_events
from tests.support.clock import FakeClock
from tests.support.quick import quick_builder
from tests.support.server import basic, running

AUTH, TOKEN, ERROR, GRANTS = (
    EventCategories.AUTHENTICATION,
    EventCategories.TOKEN,
    EventCategories.ERROR,
    EventCategories.GRANTS,
)
SUCCESS, FAILURE, INFORMATION = EventTypes.SUCCESS, EventTypes.FAILURE, EventTypes.INFORMATION

#: (class, id, category, type, name) as in Duende's ``EventIds``, ``EventCategories`` and the event classes.
CATALOGUE: list[tuple[type[Event], int, str, EventTypes, str]] = [
    (UserLoginSuccessEvent, 1000, AUTH, SUCCESS, "User Login Success"),
    (UserLoginFailureEvent, 1001, AUTH, FAILURE, "User Login Failure"),
    (UserLogoutSuccessEvent, 1002, AUTH, SUCCESS, "User Logout Success"),
    (ClientAuthenticationSuccessEvent, 1010, AUTH, SUCCESS, "Client Authentication Success"),
    (ClientAuthenticationFailureEvent, 1011, AUTH, FAILURE, "Client Authentication Failure"),
    (ApiAuthenticationSuccessEvent, 1020, AUTH, SUCCESS, "API Authentication Success"),
    (ApiAuthenticationFailureEvent, 1021, AUTH, FAILURE, "API Authentication Failure"),
    (TokenIssuedSuccessEvent, 2000, TOKEN, SUCCESS, "Token Issued Success"),
    (TokenIssuedFailureEvent, 2001, TOKEN, FAILURE, "Token Issued Failure"),
    (TokenRevokedSuccessEvent, 2010, TOKEN, SUCCESS, "Token Revoked Success"),
    (TokenIntrospectionSuccessEvent, 2020, TOKEN, SUCCESS, "Token Introspection Success"),
    (TokenIntrospectionFailureEvent, 2021, TOKEN, FAILURE, "Token Introspection Failure"),
    (TokenExchangeSuccessEvent, 2030, TOKEN, SUCCESS, "Token Exchange Success"),
    (TokenExchangeFailureEvent, 2031, TOKEN, FAILURE, "Token Exchange Failure"),
    (UnhandledExceptionEvent, 3000, ERROR, EventTypes.ERROR, "Unhandled Exception"),
    (InvalidClientConfigurationEvent, 3001, ERROR, EventTypes.ERROR, "Invalid Client Configuration"),
    (ConsentGrantedEvent, 4000, GRANTS, INFORMATION, "Consent granted"),
    (ConsentDeniedEvent, 4001, GRANTS, INFORMATION, "Consent denied"),
    (GrantsRevokedEvent, 4002, GRANTS, INFORMATION, "Grants revoked"),
    (DeviceAuthorizationSuccessEvent, 5000, EventCategories.DEVICE_FLOW, SUCCESS, "Device Authorization Success"),
    (DeviceAuthorizationFailureEvent, 5001, EventCategories.DEVICE_FLOW, FAILURE, "Device Authorization Failure"),
    (
        BackchannelAuthenticationSuccessEvent,
        6000,
        EventCategories.BACKCHANNEL_AUTHENTICATION,
        SUCCESS,
        "Backchannel Authentication Success",
    ),
    (
        BackchannelAuthenticationFailureEvent,
        6001,
        EventCategories.BACKCHANNEL_AUTHENTICATION,
        FAILURE,
        "Backchannel Authentication Failure",
    ),
]

CC = {"grant_type": "client_credentials", "scope": "api1"}


@pytest.mark.parametrize(
    ("event_class", "event_id", "category", "event_type", "name"), CATALOGUE, ids=[row[4] for row in CATALOGUE]
)
def test_event_class_has_identity_servers_id_category_type_and_name(event_class, event_id, category, event_type, name):
    assert (event_class.id, event_class.category, event_class.event_type, event_class.name) == (
        event_id,
        category,
        event_type,
        name,
    )
    # class constants, not per-instance fields; slotted like the other value types
    assert {"id", "category", "event_type", "name"}.isdisjoint(f.name for f in dataclasses.fields(event_class))
    assert "__slots__" in vars(event_class)


def test_the_table_covers_every_event_type_and_ids_and_names_are_unique():
    assert {row[0] for row in CATALOGUE} == set(EVENT_TYPES)
    assert len(EVENT_TYPES) == len(CATALOGUE) == 23
    assert len({cls.id for cls in EVENT_TYPES}) == len(EVENT_TYPES)
    assert len({cls.name for cls in EVENT_TYPES}) == len(EVENT_TYPES)


def test_sinks_can_match_on_the_event_class():
    def describe(event: Event) -> str:
        match event:
            case TokenIssuedSuccessEvent(client_id=client_id, grant_type="client_credentials"):
                return f"machine token for {client_id}"
            case ClientAuthenticationFailureEvent(client_id=client_id, message=reason):
                return f"{client_id} failed: {reason}"
            case _:
                return "other"

    machine = TokenIssuedSuccessEvent(client_id="m2m", grant_type="client_credentials")
    assert describe(machine) == "machine token for m2m"
    assert describe(ClientAuthenticationFailureEvent(client_id="x", message="bad secret")) == "x failed: bad secret"
    assert describe(GrantsRevokedEvent(subject_id="alice")) == "other"


def test_tokens_in_events_are_obfuscated():
    token = "eyJhbGciOiJFUzI1NiJ9.payload.signature-XYZW"
    tokens = issued_tokens(access_token=token, refresh_token=None, id_token="abc")
    assert tokens == (IssuedToken("id_token", "********"), IssuedToken("access_token", "****XYZW"))
    logged = json.dumps(TokenIssuedSuccessEvent(tokens=tokens).to_dict())
    assert token not in logged
    assert '"Tokens": [{"TokenType": "id_token", "TokenValue": "********"}' in logged


def test_to_dict_keeps_the_keys_sinks_have_always_seen():
    consent = ConsentGrantedEvent(subject_id="alice", client_id="web", scopes="openid api1", remember_consent=True)
    assert {k: v for k, v in consent.to_dict().items() if k not in ("TimeStamp", "ProcessId")} == {
        "Name": "Consent granted",
        "Category": "Grants",
        "EventType": "Information",
        "Id": 4000,
        "subject_id": "alice",
        "client_id": "web",
        "Scopes": "openid api1",
        "RememberConsent": True,
    }
    login = UserLoginSuccessEvent(username="alice", subject_id="1", client_id="web", remote_ip_address="192.0.2.1")
    assert set(login.to_dict()) == {
        "Name",
        "Category",
        "EventType",
        "Id",
        "TimeStamp",
        "ProcessId",
        "RemoteIpAddress",
        "Username",
        "SubjectId",
        "client_id",
    }
    failure = TokenIssuedFailureEvent(message="no such scope", client_id="m2m", grant_type="client_credentials")
    assert failure.to_dict()["Message"] == "no such scope"
    assert "Error" not in failure.to_dict()  # None details are left out


class _FailingSink:
    async def persist(self, event: Event) -> None:
        raise RuntimeError("sink down")


@pytest.mark.parametrize(
    ("switch", "event"),
    [
        ("raise_success_events", ClientAuthenticationSuccessEvent(client_id="c", authentication_method="none")),
        ("raise_failure_events", ClientAuthenticationFailureEvent(client_id="c")),
        ("raise_information_events", GrantsRevokedEvent(subject_id="alice")),
        ("raise_error_events", InvalidClientConfigurationEvent(client_id="c", message="no redirect URIs")),
    ],
)
async def test_event_service_honours_the_switch_of_the_events_type(switch, event):
    clock = FakeClock()
    off = RecordingEventSink()
    await DefaultEventService(EventsOptions(), off, clock).raise_event(event, "192.0.2.1")
    assert off.events == []
    on = RecordingEventSink()
    await DefaultEventService(EventsOptions(**{switch: True}), on, clock).raise_event(event, "192.0.2.1")
    assert on.events == [event]
    assert event.timestamp == clock.utc_now().isoformat()
    assert event.process_id == os.getpid()
    assert event.remote_ip_address == "192.0.2.1"


async def test_a_failing_sink_does_not_fail_the_caller():
    service = DefaultEventService(EventsOptions(True, True, True, True), _FailingSink(), FakeClock())
    await service.raise_event(GrantsRevokedEvent(subject_id="alice"))


async def test_sink_receives_a_typed_token_issued_event_for_client_credentials():
    sink = RecordingEventSink()
    builder = await quick_builder(options=all_events())
    builder.add_event_sink(sink)
    async with running(builder) as server:
        response = await server.token(CC, headers=basic("m2m", "secret"))
    assert response.status_code == 200
    access_token = response.json()["access_token"]
    [issued] = sink.of_type(TokenIssuedSuccessEvent)
    assert (issued.client_id, issued.grant_type, issued.scopes, issued.endpoint) == (
        "m2m",
        "client_credentials",
        "api1",
        "Token",
    )
    assert issued.subject_id is None
    assert issued.tokens == (IssuedToken("access_token", "****" + access_token[-4:]),)
    assert issued.remote_ip_address == "203.0.113.7"
    assert access_token not in json.dumps([e.to_dict() for e in sink.events])


async def test_logging_sink_writes_the_same_json_keys_as_before(caplog):
    builder = await quick_builder(options=all_events())
    builder.add_event_sink(LoggingEventSink())
    with caplog.at_level(logging.INFO, logger="identityserver.events"):
        async with running(builder) as server:
            assert (await server.token(CC, headers=basic("m2m", "secret"))).status_code == 200
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "identityserver.events"]
    by_name = {line["Name"]: line for line in lines}
    common = {"Name", "Category", "EventType", "Id", "TimeStamp", "ProcessId", "RemoteIpAddress"}
    client_auth = by_name["Client Authentication Success"]
    assert set(client_auth) == common | {"client_id", "AuthenticationMethod"}
    assert (client_auth["Id"], client_auth["EventType"], client_auth["client_id"]) == (1010, "Success", "m2m")
    issued = by_name["Token Issued Success"]
    # the keys written before events were typed, plus Duende's Endpoint and (obfuscated) Tokens
    assert set(issued) == common | {"client_id", "GrantType", "Scopes"} | {"Endpoint", "Tokens"}
    assert (issued["Id"], issued["Category"], issued["EventType"]) == (2000, "Token", "Success")
    assert (issued["client_id"], issued["GrantType"], issued["Scopes"]) == ("m2m", "client_credentials", "api1")
    assert issued["RemoteIpAddress"] == "203.0.113.7"


async def test_a_browser_sign_in_consent_and_sign_out_raise_typed_events():
    sink = RecordingEventSink()
    builder = await quick_builder(options=all_events())
    builder.add_event_sink(sink)
    async with running(builder) as server:
        browser = Browser(server.client)
        params, _ = code_request(scope="openid profile api1")
        page = await browser.get(authorize_path(params))
        page = await browser.login(page, "alice", "wrong")
        page = await browser.login(page, "alice", "alice")
        redirect = await browser.submit(page, {"button": "yes", "remember": "true"})
        assert "code" in redirect_parameters(redirect)
        hybrid, _ = code_request(
            "hybrid", "https://hybrid.example/cb", "openid api1", response_type="code id_token token"
        )
        hybrid_redirect = await browser.get(authorize_path(hybrid))
        fragment = dict(parse_qsl(urlsplit(hybrid_redirect.headers["location"]).fragment))
        grants = await server.client.get("/grants")
        await browser.submit(grants, {"client_id": "web"})
        page = await server.client.get("/account/logout")
        await browser.submit(page, {"button": "yes"})
    [failed] = sink.of_type(UserLoginFailureEvent)
    assert (failed.username, failed.client_id, failed.message) == ("alice", "web", "invalid credentials")
    [login] = sink.of_type(UserLoginSuccessEvent)
    assert (login.username, login.subject_id, login.client_id, login.display_name) == (
        "alice",
        "1",
        "web",
        "Alice Smith",
    )
    [consent] = sink.of_type(ConsentGrantedEvent)
    assert (consent.subject_id, consent.client_id, consent.requested_scopes) == ("1", "web", "openid profile api1")
    assert set(consent.scopes.split()) == {"openid", "profile", "api1"}
    # a code alone is not a token (only the hybrid response raises Token Issued Success)
    [issued] = sink.of_type(TokenIssuedSuccessEvent)
    assert (issued.endpoint, issued.client_id, issued.subject_id, issued.grant_type) == (
        "Authorize",
        "hybrid",
        "1",
        "hybrid",
    )
    assert (issued.redirect_uri, issued.scopes) == ("https://hybrid.example/cb", "openid api1")
    assert [t.token_type for t in issued.tokens] == ["id_token", "code", "access_token"]
    logged = json.dumps(issued.to_dict())
    assert all(fragment[kind] not in logged for kind in ("id_token", "code", "access_token"))
    [revoked] = sink.of_type(GrantsRevokedEvent)
    assert (revoked.subject_id, revoked.client_id) == ("1", "web")
    [logout] = sink.of_type(UserLogoutSuccessEvent)
    assert (logout.subject_id, logout.display_name) == ("1", "Alice Smith")
    assert logout.session_id


class _Broken:
    async def process(self, request: EndpointRequest) -> None:
        raise KeyError("boom")


async def test_an_unhandled_endpoint_error_raises_an_unhandled_exception_event():
    sink = RecordingEventSink()
    events = DefaultEventService(EventsOptions(raise_error_events=True), sink, FakeClock())
    router = EndpointRouter([Endpoint("Broken", "/connect/broken", _Broken())])
    options = IdentityServerOptions(allowed_hosts=("idp.example",))  # the issuer comes from the request
    app = IdentityServerMiddleware(_not_found, router, options, events=events)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://idp.example") as client:
        response = await client.get("/connect/broken")
    assert response.status_code == 500
    [event] = sink.of_type(UnhandledExceptionEvent)
    assert (event.details, event.endpoint, event.remote_ip_address) == ("KeyError: 'boom'", "Broken", "203.0.113.7")


async def _not_found(scope: object, receive: object, send: object) -> None:
    raise AssertionError("the endpoint should have handled the request")
