"""The composition root: every default goes through one registry, so each can be replaced, subclassed or
decorated, and nothing registered is ignored without a word."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest

from identityserver.configuration.builder import IdentityServerBuilder
from identityserver.configuration.registry import CompositionError, UnusedRegistrationError, protocol_members
from identityserver.configuration.wiring import ConfigurationError
from identityserver.configuration.wiring.composition import DEFAULTS
from identityserver.models.claims import Claim
from identityserver.models.client import Client, Secret
from identityserver.models.contexts import IsActiveContext, ProfileDataRequestContext
from identityserver.models.resources import ApiResource
from identityserver.options import DynamicClientRegistrationOptions, IdentityServerOptions, MutualTlsOptions
from identityserver.response_handling.token import TokenResponseGenerator
from identityserver.services.consent import DefaultConsentService
from identityserver.services.protocols import (
    ConsentService,
    CorsPolicyService,
    HttpClientFactory,
    ProfileService,
)
from identityserver.stores.protocols import ClientStore, ListableClientStore, UserStore
from identityserver.validation.redirect_uri import StrictRedirectUriValidator
from identityserver.validation.token_request.validator import TokenRequestValidator
from tests.support.server import make_builder, running

#: Slots a default configuration leaves empty (``None``), so a decorator of them has nothing to wrap.
ABSENT_BY_DEFAULT = {HttpClientFactory}


def everything_on() -> IdentityServerBuilder:
    """The demo-like configuration with every optional area enabled, so that every slot is built."""
    builder = make_builder()
    builder.options = dataclasses.replace(
        builder.options,
        dynamic_client_registration=DynamicClientRegistrationOptions(enabled=True),
        mutual_tls=MutualTlsOptions(enabled=True),
    )
    builder.add_server_side_sessions()
    return builder


class Recorder:
    def __init__(self) -> None:
        self.wrapped: list[object] = []

    def wrap(self, key: object) -> Any:
        def wrapper(inner: object) -> object:
            self.wrapped.append(key)
            return inner

        return wrapper


def test_every_default_is_built_through_the_registry() -> None:
    """A decorator on any slot runs, so every default can be wrapped (and, by the same path, replaced)."""
    builder = everything_on()
    recorder = Recorder()
    keys = [key for key in DEFAULTS if key not in ABSENT_BY_DEFAULT]
    for key in keys:
        builder.decorate(key, recorder.wrap(key))
    builder.build()
    assert sorted(map(repr, recorder.wrapped)) == sorted(map(repr, keys))
    assert len(DEFAULTS) >= 60  # stores, services, every validator, generator and endpoint


def test_a_registration_nothing_uses_is_a_start_up_error_naming_it() -> None:
    builder = make_builder()
    builder.decorate("client", lambda inner: inner)  # type: ignore[arg-type]  # a misspelt slot
    builder.add(HttpClientFactory, lambda: None)  # type: ignore[arg-type,return-value]  # slot never built
    with pytest.raises(UnusedRegistrationError) as raised:
        builder.build()
    assert "decorator" in str(raised.value) and "for 'client'" in str(raised.value)
    assert "HttpClientFactory" not in str(raised.value)  # the back-channel logout service uses it


def test_an_override_of_a_service_protocol_builds_the_subclass() -> None:
    class Mine(DefaultConsentService):
        pass

    builder = make_builder()
    builder.override(ConsentService, Mine)
    assert type(builder.build().consent) is Mine
    with pytest.raises(TypeError, match="is a object, which lacks"):
        make_builder().add(UserStore, object())  # type: ignore[arg-type]


def test_an_instance_lacking_a_protocol_member_is_refused_at_registration() -> None:
    class HalfProfile:
        async def get_profile_data(self, context: ProfileDataRequestContext) -> None: ...

    with pytest.raises(TypeError, match="is_active"):
        make_builder().add(ProfileService, HalfProfile())  # type: ignore[arg-type]
    assert protocol_members(ProfileService) == ["get_profile_data", "is_active"]


def test_an_override_must_subclass_the_default_it_replaces() -> None:
    class NotAValidator:
        pass

    builder = make_builder()
    with pytest.raises(TypeError, match="must subclass"):
        builder.override(TokenRequestValidator, NotAValidator)  # type: ignore[arg-type]
    builder.override(ConsentService, StrictRedirectUriValidator)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must subclass DefaultConsentService"):
        builder.build()


def test_a_dependency_cycle_names_the_slots() -> None:
    builder = make_builder()
    builder.add_factory(ProfileService, lambda r: r.get(ConsentService))  # type: ignore[arg-type, return-value]
    builder.add_factory(ConsentService, lambda r: r.get(ProfileService))  # type: ignore[arg-type, return-value]
    with pytest.raises(CompositionError, match="dependency cycle"):
        builder.build()


async def test_a_factory_gets_the_other_collaborators() -> None:
    class DirectoryProfile:
        def __init__(self, users: UserStore) -> None:
            self.users = users

        async def get_profile_data(self, context: ProfileDataRequestContext) -> None:
            user = await self.users.find_by_subject_id(context.subject.subject_id)
            context.issued_claims.append(Claim("directory", user.username if user else "?"))

        async def is_active(self, context: IsActiveContext) -> None:
            context.is_active = True

    builder = make_builder()
    builder.add_factory(ProfileService, lambda r: DirectoryProfile(r.get(UserStore)))
    async with running(builder) as server:
        assert isinstance(server.services.profile, DirectoryProfile)
        assert server.services.profile.users is server.services.users


async def test_a_subclassed_pipeline_stage_is_used_with_the_default_arguments() -> None:
    class Stamped(TokenResponseGenerator):
        async def process_token_request(self, result: Any) -> Any:
            response = await super().process_token_request(result)
            response.custom["stamped"] = True
            return response

    builder = make_builder()
    builder.override(TokenResponseGenerator, Stamped)
    async with running(builder) as server:
        response = await server.token({"grant_type": "client_credentials"}, auth=("m2m", "secret"))
        assert response.status_code == 200, response.text
        assert response.json()["stamped"] is True


def test_signing_algorithms_no_key_exists_for_are_a_start_up_error() -> None:
    builder = make_builder()
    builder.add_in_memory_api_resources([ApiResource("es.api", allowed_access_token_signing_algorithms=["ES256"])])
    with pytest.raises(ConfigurationError, match=r"es\.api"):
        builder.build()


async def test_stored_clients_with_an_algorithm_no_key_exists_for_stop_the_start_up() -> None:
    """A registered store is read at start-up (not at ``build()``): its clients are checked there, before any
    request could reach them."""

    class StoredClients:
        def __init__(self) -> None:
            self.clients = [Client("es.client", allowed_identity_token_signing_algorithms=["ES384"])]

        async def find_client_by_id(self, client_id: str) -> Client | None:
            return next((c for c in self.clients if c.client_id == client_id), None)

        async def get_all_clients(self) -> list[Client]:
            return list(self.clients)

    builder = make_builder()
    builder.add_client_store(StoredClients())
    builder.build()  # the store is not read yet
    with pytest.raises(ConfigurationError, match=r"'es\.client'.*ES384"):
        async with running(builder):
            pass


def test_registration_needs_somewhere_to_add_clients() -> None:
    class ReadOnlyClients:
        async def find_client_by_id(self, client_id: str) -> Client | None:
            return None

    builder = everything_on()
    builder.add_client_store(ReadOnlyClients())
    with pytest.raises(CompositionError, match="ClientConfigurationStore"):
        builder.build()


def test_a_client_store_that_cannot_list_disables_cors_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    class ReadOnlyClients:
        async def find_client_by_id(self, client_id: str) -> Client | None:
            return None

    builder = make_builder()
    builder.add_client_store(ReadOnlyClients())
    with caplog.at_level(logging.WARNING, logger="identityserver"):
        services = builder.build()
    assert services.client_list is None
    assert "no browser origin is allowed" in caplog.text


async def test_cors_and_the_portal_read_any_listable_client_store() -> None:
    class Directory:
        def __init__(self) -> None:
            self.clients = [
                Client(
                    "spa",
                    allowed_cors_origins=["https://spa.example"],
                    initiate_login_uri="https://spa.example/login",
                    client_secrets=[Secret("x")],
                )
            ]

        async def find_client_by_id(self, client_id: str) -> Client | None:
            return next((c for c in self.clients if c.client_id == client_id), None)

        async def get_all_clients(self) -> list[Client]:
            return list(self.clients)

    builder = make_builder(options=IdentityServerOptions())
    directory = Directory()
    builder.add_client_store(directory)
    async with running(builder) as server:
        assert server.services.client_list is directory
        assert isinstance(directory, ListableClientStore)
        assert await server.services.cors.is_origin_allowed("https://SPA.example")
        assert not await server.services.cors.is_origin_allowed("https://evil.example")
        preflight = await server.client.options(
            "/connect/token",
            headers={"Origin": "https://spa.example", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.headers.get("access-control-allow-origin") == "https://spa.example"
        portal = await server.client.get("/portal")
        assert "https://spa.example/login?iss=" in portal.text


def test_typed_keys_and_defaults_cover_every_services_field() -> None:
    from identityserver.hosting.services import Services

    fields = {f.name for f in dataclasses.fields(Services)}
    assert {"clients", "client_list", "client_configuration", "cors", "token_cleanup"} <= fields
    assert ClientStore in DEFAULTS and CorsPolicyService in DEFAULTS


async def test_the_writer_of_a_result_type_can_be_replaced() -> None:
    from identityserver.endpoints.results import TokenResult
    from identityserver.hosting.writers import ResultWriters, write_token

    def stamped(result: TokenResult) -> Any:
        status, headers, body = write_token(result)
        return status, [*headers, ("x-written-by", "test")], body

    builder = make_builder()
    builder.decorate(ResultWriters, lambda writers: writers.with_writer(TokenResult, stamped))
    async with running(builder) as server:
        response = await server.token({"grant_type": "client_credentials"}, auth=("m2m", "secret"))
        assert response.status_code == 200
        assert response.headers["x-written-by"] == "test"


def test_decorating_the_client_store_keeps_listing_and_registration() -> None:
    builder = everything_on()
    builder.decorate(ClientStore, Passthrough)
    services = builder.build()
    assert isinstance(services.clients, Passthrough)
    assert services.client_list is not None and services.client_configuration is not None


class Passthrough:
    """A decorator that only finds clients (as an auditing wrapper would)."""

    def __init__(self, inner: ClientStore) -> None:
        self.inner = inner

    async def find_client_by_id(self, client_id: str) -> Client | None:
        return await self.inner.find_client_by_id(client_id)


async def test_an_item_factory_gets_the_other_collaborators() -> None:
    from identityserver.models.claims import Principal
    from identityserver.validation.protocols import (
        ExtensionGrantValidationContext,
        ExtensionGrantValidator,
        GrantValidationResult,
    )

    class Delegation:
        grant_type = "urn:example:grant-type:delegation"

        def __init__(self, users: UserStore) -> None:
            self.users = users

        async def validate(self, context: ExtensionGrantValidationContext) -> None:
            user = await self.users.find_by_username(context.request.raw.get("username", ""))
            context.result = (
                GrantValidationResult(subject=Principal([Claim("sub", user.subject_id)]))
                if user is not None
                else GrantValidationResult(error="invalid_grant")
            )

    builder = make_builder()
    builder.add_item_factory(ExtensionGrantValidator, lambda r: Delegation(r.get(UserStore)))
    with pytest.raises(UnusedRegistrationError, match="nothing used"):
        make_builder().add_item_factory(ProfileService, lambda r: r.get(ProfileService)).build()
    services = builder.build()
    assert services.users is not None
