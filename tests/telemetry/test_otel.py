"""Spans and metrics of a code flow, recorded with the SDK's in-memory exporters (docs/observability.md)."""

from __future__ import annotations

import pytest
import typing_extensions
from opentelemetry.trace import SpanKind

from identityserver.hosting.middleware import IdentityServerMiddleware
from identityserver.hosting.telemetry import RequestTelemetry
from identityserver.stores.in_memory.clients import InMemoryClientStore
from identityserver.stores.protocols import ClientStore, ListableClientStore
from identityserver.telemetry import TracingProxy
from tests.support.browser import CLIENT_SECRET, obtain_code, redeem, refresh
from tests.support.server import make_builder, running
from tests.telemetry.sdk import sdk, telemetry_on


def _descendants(spans, root):
    children = {}
    for span in spans:
        if span.parent is not None:
            children.setdefault(span.parent.span_id, []).append(span)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop().context.span_id, []):
            found.append(child)
            todo.append(child)
    return found


def _layers(app):
    """The ASGI middleware chain from the outside in (each wrapper keeps the next in ``.app``)."""
    found = [app]
    while hasattr(found[-1], "app") and not isinstance(found[-1], IdentityServerMiddleware):
        found.append(found[-1].app)
    return found


def _request_spans(spans, name):
    return [s for s in spans if s.name == name and s.kind == SpanKind.SERVER]


async def test_code_flow_spans_have_validation_store_and_signing_children():
    telemetry = sdk()
    builder = make_builder()
    builder.options = telemetry_on(builder.options)
    async with running(builder) as server:
        grant = await obtain_code(server.client)
        telemetry.spans.clear()
        response = await redeem(server.client, grant)
        assert response.status_code == 200, response.text
        tokens = response.json()
        token_spans = telemetry.finished()

        (request,) = _request_spans(token_spans, "POST /connect/token")
        assert request.parent is None
        attributes = dict(request.attributes or {})
        assert attributes["http.request.method"] == "POST"
        assert attributes["url.path"] == "/connect/token"
        assert attributes["http.response.status_code"] == 200
        assert attributes["identityserver.endpoint"] == "Token"
        assert attributes["identityserver.client_id"] == "web"

        below = _descendants(token_spans, request)
        names = {s.name for s in below}
        direct = {s.name for s in below if s.parent.span_id == request.context.span_id}
        assert {"ClientSecretValidator.validate", "TokenRequestValidator.validate_request"} <= direct
        assert "ClientStore.find_client_by_id" in names
        assert any(n.startswith("PersistedGrantStore.") for n in names), names
        assert "TokenCreationService.create_token" in names
        components = {s.attributes["identityserver.component"] for s in below}
        assert components == {"store", "validation", "signing"}
        assert all(s.context.trace_id == request.context.trace_id for s in below)
        # the store call that consumed the code ran inside token request validation
        validation = next(s for s in below if s.name == "TokenRequestValidator.validate_request")
        assert any(s.name.startswith("PersistedGrantStore.") for s in _descendants(token_spans, validation))

        # nothing secret in any attribute: not the code, the verifier, the client secret or a token
        recorded = repr([dict(s.attributes or {}) for s in token_spans])
        for value in (grant.code, grant.verifier, CLIENT_SECRET * 2, tokens["access_token"], tokens["refresh_token"]):
            assert value not in recorded

        telemetry.spans.clear()
        refreshed = await refresh(server.client, "web", tokens["refresh_token"])
        assert refreshed.status_code == 200

    # the authorize request got its own server span with the validator below it
    telemetry.spans.clear()
    async with running(builder) as server:
        await obtain_code(server.client)
        spans = telemetry.finished()
    (authorize, *_) = _request_spans(spans, "GET /connect/authorize")
    assert authorize.attributes["identityserver.endpoint"] == "Authorize"
    assert "AuthorizeRequestValidator.validate" in {s.name for s in _descendants(spans, authorize)}
    # UI pages are not protocol requests: no server span for the login page
    assert not [s for s in spans if "/account/login" in s.name]


async def test_code_flow_metrics():
    telemetry = sdk()
    builder = make_builder()
    builder.options = telemetry_on(builder.options)
    issued = telemetry.total("identityserver.tokens.issued", grant_type="authorization_code", client_id="web")
    refreshed = telemetry.total("identityserver.tokens.issued", grant_type="refresh_token", client_id="web")
    invalid_grant = telemetry.total("identityserver.tokens.errors", error="invalid_grant")
    invalid_client = telemetry.total("identityserver.tokens.errors", error="invalid_client")
    durations = sum(
        p.count
        for p in telemetry.points("identityserver.request.duration")
        if p.attributes["identityserver.endpoint"] == "Token"
    )
    async with running(builder) as server:
        grant = await obtain_code(server.client)
        response = await redeem(server.client, grant)
        assert response.status_code == 200
        assert (await refresh(server.client, "web", response.json()["refresh_token"])).status_code == 200
        again = await redeem(server.client, grant)  # a code is redeemed once
        assert again.json()["error"] == "invalid_grant"
        wrong = await server.token({"grant_type": "client_credentials"}, auth=("m2m", "wrong"))
        assert wrong.status_code == 401

    assert telemetry.total("identityserver.tokens.issued", grant_type="authorization_code", client_id="web") == (
        issued + 1
    )
    assert telemetry.total("identityserver.tokens.issued", grant_type="refresh_token", client_id="web") == refreshed + 1
    assert telemetry.total("identityserver.tokens.errors", error="invalid_grant") == invalid_grant + 1
    assert telemetry.total("identityserver.tokens.errors", error="invalid_client") == invalid_client + 1
    token_points = [
        p
        for p in telemetry.points("identityserver.request.duration")
        if p.attributes["identityserver.endpoint"] == "Token"
    ]
    assert sum(p.count for p in token_points) == durations + 4
    assert {p.attributes["http.response.status_code"] for p in token_points} >= {200, 400, 401}
    assert all(p.sum > 0 for p in token_points)
    # the sign-in of obtain_code counted as an active session; the key manager's first key as a rotation
    assert telemetry.total("identityserver.sessions.active") >= 1
    assert telemetry.total("identityserver.keys.rotations", algorithm="RS256") >= 1


async def test_disabled_telemetry_wraps_nothing_and_records_no_span():
    telemetry = sdk()
    builder = make_builder()
    assert not builder.options.telemetry.enabled
    async with running(builder) as server:
        telemetry.spans.clear()
        assert type(server.services.clients) is InMemoryClientStore
        from identityserver.hosting.app import create_app

        assert not any(isinstance(layer, RequestTelemetry) for layer in _layers(create_app(server.services)))
        response = await server.token({"grant_type": "client_credentials", "scope": "api1"}, auth=("m2m", "secret"))
        assert response.status_code == 200
        assert telemetry.finished() == []


async def test_enabled_telemetry_wraps_the_app_and_the_stores():
    sdk()
    builder = make_builder()
    builder.options = telemetry_on(builder.options)
    async with running(builder) as server:
        from identityserver.hosting.app import create_app

        layers = _layers(create_app(server.services))
        telemetry_layer = next(layer for layer in layers if isinstance(layer, RequestTelemetry))
        assert isinstance(telemetry_layer.app, IdentityServerMiddleware)
        clients = server.services.clients
        assert isinstance(clients, TracingProxy)
        # capabilities of the wrapped store are still visible through the proxy
        assert isinstance(clients, ListableClientStore)
        assert (await clients.find_client_by_id("web")).client_id == "web"


async def test_proxy_passes_through_plain_attributes_and_raises_for_missing_ones():
    sdk()
    store = InMemoryClientStore([])
    proxy: ClientStore = TracingProxy(store, "ClientStore", "store")  # type: ignore[assignment]
    assert proxy.find_client_by_id is proxy.find_client_by_id  # wrapped once, then cached
    assert await proxy.find_client_by_id("nobody") is None
    with pytest.raises(AttributeError):
        proxy.no_such_member


@typing_extensions.runtime_checkable
class _Listing(typing_extensions.Protocol):
    async def get_all_clients(self) -> object: ...


def test_the_proxy_answers_capability_checks_made_as_python_3_12_makes_them():
    """From Python 3.12 on, isinstance() against a runtime-checkable Protocol looks members up statically, never
    through __getattr__ (typing_extensions' Protocol does so on 3.11 too); the wiring asks stores for their
    capabilities that way (ListableClientStore, ClientRegistrationStore, ForgettingClientStore)."""
    sdk()
    proxy = TracingProxy(InMemoryClientStore([]), "ClientStore", "store")
    assert isinstance(proxy, _Listing)
    assert isinstance(proxy, InMemoryClientStore)
    assert isinstance(proxy, TracingProxy)
    assert not isinstance(TracingProxy(object(), "ClientStore", "store"), _Listing)


async def test_a_callers_trace_context_is_continued():
    telemetry = sdk()
    builder = make_builder()
    builder.options = telemetry_on(builder.options)
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    async with running(builder) as server:
        telemetry.spans.clear()
        response = await server.token(
            {"grant_type": "client_credentials", "scope": "api1"},
            auth=("m2m", "secret"),
            headers={"traceparent": f"00-{trace_id}-{parent_id}-01"},
        )
        assert response.status_code == 200
        (request,) = _request_spans(telemetry.finished(), "POST /connect/token")
        assert format(request.context.trace_id, "032x") == trace_id
        assert format(request.parent.span_id, "016x") == parent_id
        assert request.attributes["identityserver.client_id"] == "m2m"
