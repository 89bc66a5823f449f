"""Token endpoint, ``client_credentials`` grant (RFC 6749 §4.4, RFC 9068, RFC 8707; duende §1.5, security 1.4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from identityserver.constants import PersistedGrantTypes
from identityserver.events import ClientAuthenticationSuccessEvent, TokenIssuedFailureEvent, TokenIssuedSuccessEvent
from identityserver.models.grants import PersistedGrantFilter
from identityserver.options import IdentityServerOptions, KeyManagementOptions
from tests.support.client_auth import RecordingEventSink, all_events, configuration, jwt_parts, verify_jwt
from tests.support.quick import quick_builder
from tests.support.server import Server, basic, running

CC = {"grant_type": "client_credentials"}

EXTRA_TOML = """
[options.key_management]
signing_algorithms = ["RS256", "PS256"]

[[clients]]
client_id = "m2m"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1", "api3", "api4", "api.disabled", "rs", "ps"]
access_token_lifetime = 120

[[clients]]
client_id = "no.jti"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
include_jwt_id = false

[[clients]]
client_id = "code.only"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://app.example/cb"]
allowed_scopes = ["api1"]

[[api_scopes]]
name = "api1"
[[api_scopes]]
name = "api3"
[[api_scopes]]
name = "api4"
[[api_scopes]]
name = "api.disabled"
enabled = false
[[api_scopes]]
name = "rs"
[[api_scopes]]
name = "ps"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]

[[api_resources]]
name = "https://api3.example"
scopes = ["api3"]

[[api_resources]]
name = "https://api4.example"
scopes = ["api4"]
require_resource_indicator = true

[[api_resources]]
name = "https://rs.example"
scopes = ["rs"]
allowed_access_token_signing_algorithms = ["RS256"]

[[api_resources]]
name = "https://ps.example"
scopes = ["ps"]
allowed_access_token_signing_algorithms = ["PS256"]
"""


async def jwks(server: Server) -> dict:
    return (await server.client.get("/.well-known/openid-configuration/jwks")).json()


async def verified_claims(server: Server, token: str) -> dict:
    """Verify the token with an independent JOSE implementation (Authlib) against the published JWKS."""
    return verify_jwt(token, await jwks(server), ["RS256", "PS256", "ES256"])


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with running(await quick_builder()) as srv:
        yield srv


async def test_client_credentials_request_returns_a_bearer_jwt_with_no_store_headers(server):
    response = await server.token({**CC, "scope": "api1"}, headers=basic("m2m", "secret"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "api1"
    assert "refresh_token" not in body
    assert "id_token" not in body


async def test_access_token_header_is_typed_at_jwt_and_signed_by_a_published_key(server):
    token = (await server.token({**CC, "scope": "api1"}, headers=basic("m2m", "secret"))).json()["access_token"]
    header, _ = jwt_parts(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    assert header["kid"] in {k["kid"] for k in (await jwks(server))["keys"]}
    assert (await verified_claims(server, token))["client_id"] == "m2m"


async def test_access_token_carries_the_rfc_9068_claims(server):
    now = int(server.clock.timestamp())
    token = (await server.token({**CC, "scope": "api1"}, headers=basic("m2m", "secret"))).json()["access_token"]
    claims = await verified_claims(server, token)
    assert claims["iss"] == server.issuer
    assert claims["iat"] == now
    assert claims["nbf"] == now
    assert claims["exp"] == now + 3600
    assert claims["aud"] == "urn:api1"
    assert claims["client_id"] == "m2m"
    assert claims["sub"] == "m2m"  # RFC 9068 §2.2: no resource owner, so the client is the subject
    assert claims["scope"] == "api1"
    assert len(claims["jti"]) >= 32


async def test_two_tokens_have_different_jti(server):
    first = (await server.token({**CC, "scope": "api1"}, headers=basic("m2m", "secret"))).json()["access_token"]
    second = (await server.token({**CC, "scope": "api1"}, headers=basic("m2m", "secret"))).json()["access_token"]
    assert jwt_parts(first)[1]["jti"] != jwt_parts(second)[1]["jti"]


async def test_scopes_of_two_api_resources_give_an_audience_array(server):
    token = (await server.token({**CC, "scope": "api1 api2"}, headers=basic("m2m", "secret"))).json()["access_token"]
    claims = await verified_claims(server, token)
    assert sorted(claims["aud"]) == ["urn:api1", "urn:api2"]
    assert claims["scope"] == "api1 api2"


async def test_client_claims_are_emitted_with_the_client_prefix(server):
    token = (await server.token({**CC, "scope": "api1"}, headers=basic("m2m", "secret"))).json()["access_token"]
    claims = jwt_parts(token)[1]
    assert claims["client_tenant"] == "acme"
    assert "tenant" not in claims


async def test_request_without_scope_gets_every_allowed_api_scope_and_no_identity_scope(server):
    response = await server.token(CC, headers=basic("m2m", "secret"))
    assert response.status_code == 200
    assert response.json()["scope"].split() == ["api1", "api2"]


async def test_reference_token_is_an_opaque_handle_stored_only_as_its_hash(server):
    response = await server.token({**CC, "scope": "api1"}, headers=basic("m2m.reference", "secret"))
    assert response.status_code == 200
    handle = response.json()["access_token"]
    assert handle.count(".") == 0
    assert len(handle) >= 64  # 256 bits of entropy, hex (security.md item 54)
    grants = await server.services.persisted_grants.get_all(PersistedGrantFilter(client_id="m2m.reference"))
    assert len(grants) == 1
    assert grants[0].type == PersistedGrantTypes.REFERENCE_TOKEN
    assert handle not in grants[0].key
    assert handle not in grants[0].data


@pytest.mark.parametrize(
    ("scope", "error"),
    [
        ("isolated.scope", "invalid_scope"),  # exists, but not allowed for the client
        ("unknown.scope", "invalid_scope"),
        ("openid", "invalid_scope"),  # identity scopes need a user
        ("offline_access", "invalid_scope"),  # never a refresh token (RFC 6749 §4.4.3)
        ("api1 isolated.scope", "invalid_scope"),
        ("api1\u00e9", "invalid_scope"),
    ],
)
async def test_scope_that_is_not_grantable_is_invalid_scope(server, scope, error):
    response = await server.token({**CC, "scope": scope}, headers=basic("m2m", "secret"))
    assert response.status_code == 400
    assert response.json()["error"] == error


async def test_missing_grant_type_is_invalid_request(server):
    response = await server.token({"scope": "api1"}, headers=basic("m2m", "secret"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("grant_type", ["urn:example:unknown", "implicit", "hybrid", "CLIENT_CREDENTIALS"])
async def test_grant_type_the_server_does_not_implement_is_unsupported_grant_type(server, grant_type):
    response = await server.token({"grant_type": grant_type}, headers=basic("m2m", "secret"))
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("grant_type", ["password", "authorization_code"])
async def test_implemented_grant_type_the_client_may_not_use_is_unauthorized_client(server, grant_type):
    response = await server.token({"grant_type": grant_type}, headers=basic("m2m", "secret"))
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


async def test_public_client_cannot_use_client_credentials(server):
    response = await server.token({**CC, "client_id": "public"})
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("unauthorized_client", "invalid_client")


async def test_token_endpoint_raises_success_and_failure_events():
    sink = RecordingEventSink()
    builder = await quick_builder(options=all_events())
    builder.add_event_sink(sink)
    async with running(builder) as server:
        assert (await server.token({**CC, "scope": "api1"}, headers=basic("m2m", "secret"))).status_code == 200
        assert (await server.token({**CC, "scope": "nope"}, headers=basic("m2m", "secret"))).status_code == 400
    issued = sink.of_type(TokenIssuedSuccessEvent)
    assert len(issued) == 1
    assert issued[0].client_id == "m2m"
    assert issued[0].scopes == "api1"
    failed = sink.of_type(TokenIssuedFailureEvent)
    assert len(failed) == 1
    assert failed[0].error == "invalid_scope"
    assert len(sink.of_type(ClientAuthenticationSuccessEvent)) == 2
    assert all(event.remote_ip_address == "203.0.113.7" for event in sink.events)


async def test_events_are_not_raised_when_switched_off(server):
    sink = RecordingEventSink()
    builder = await quick_builder()
    builder.add_event_sink(sink)
    async with running(builder) as srv:
        assert (await srv.token({**CC, "scope": "api1"}, headers=basic("m2m", "secret"))).status_code == 200
    assert sink.events == []


# -- a configuration of its own: lifetimes, jti, resource indicators, signing algorithms -----------------------


@pytest.fixture
async def custom() -> AsyncIterator[Server]:
    async with running(await quick_builder(configuration(EXTRA_TOML))) as srv:
        yield srv


async def test_client_access_token_lifetime_sets_exp_and_expires_in(custom):
    response = await custom.token({**CC, "scope": "api1"}, headers=basic("m2m", "secret"))
    assert response.json()["expires_in"] == 120
    claims = jwt_parts(response.json()["access_token"])[1]
    assert claims["exp"] - claims["iat"] == 120


async def test_client_without_include_jwt_id_still_gets_a_jti_as_rfc_9068_requires(custom):
    # RFC 9068 §2.2 makes jti required, and revocation of JWT access tokens works by jti (docs/security.md)
    first = await custom.token({**CC, "scope": "api1"}, headers=basic("no.jti", "secret"))
    second = await custom.token({**CC, "scope": "api1"}, headers=basic("no.jti", "secret"))
    jtis = [jwt_parts(r.json()["access_token"])[1]["jti"] for r in (first, second)]
    assert jtis[0] != jtis[1] and all(len(j) == 32 for j in jtis)


async def test_confidential_client_without_the_grant_is_unauthorized_client(custom):
    response = await custom.token({**CC, "scope": "api1"}, headers=basic("code.only", "secret"))
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


async def test_disabled_api_scope_is_invalid_scope(custom):
    response = await custom.token({**CC, "scope": "api.disabled"}, headers=basic("m2m", "secret"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_resource_indicator_narrows_the_audience_to_that_resource(custom):
    response = await custom.token(
        {**CC, "scope": "api1 api3", "resource": "https://api3.example"}, headers=basic("m2m", "secret")
    )
    assert response.status_code == 200
    assert jwt_parts(response.json()["access_token"])[1]["aud"] == "https://api3.example"


async def test_resource_indicator_naming_a_urn_api_resource_is_accepted(custom):
    response = await custom.token({**CC, "scope": "api1", "resource": "urn:api1"}, headers=basic("m2m", "secret"))
    assert response.status_code == 200
    assert jwt_parts(response.json()["access_token"])[1]["aud"] == "urn:api1"


@pytest.mark.parametrize(
    "resource",
    [
        "https://api4.example",  # exists, but not reachable with the requested scope
        "https://unknown.example",
        "/relative",
        "https://api3.example/#fragment",
        "https://api3.example/" + "a" * 600,
    ],
)
async def test_resource_that_is_not_a_valid_target_is_invalid_target(custom, resource):
    response = await custom.token({**CC, "scope": "api3", "resource": resource}, headers=basic("m2m", "secret"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


async def test_more_than_one_resource_at_the_token_endpoint_is_invalid_target(custom):
    response = await custom.token(
        {**CC, "scope": "api1 api3", "resource": ["https://api3.example", "https://api4.example"]},
        headers=basic("m2m", "secret"),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


async def test_resource_requiring_an_indicator_is_left_out_of_the_audience_without_one(custom):
    response = await custom.token({**CC, "scope": "api4"}, headers=basic("m2m", "secret"))
    assert response.status_code == 200
    assert "https://api4.example" not in str(jwt_parts(response.json()["access_token"])[1]["aud"])
    with_indicator = await custom.token(
        {**CC, "scope": "api4", "resource": "https://api4.example"}, headers=basic("m2m", "secret")
    )
    assert jwt_parts(with_indicator.json()["access_token"])[1]["aud"] == "https://api4.example"


async def test_api_resource_signing_algorithm_selects_the_signing_key(custom):
    response = await custom.token({**CC, "scope": "ps"}, headers=basic("m2m", "secret"))
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert jwt_parts(token)[0]["alg"] == "PS256"
    assert (await verified_claims(custom, token))["aud"] == "https://ps.example"


async def test_api_resources_without_a_common_signing_algorithm_are_invalid_scope(custom):
    response = await custom.token({**CC, "scope": "rs ps"}, headers=basic("m2m", "secret"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_default_signing_algorithm_is_the_first_configured_one():
    options = replace(IdentityServerOptions(), key_management=KeyManagementOptions(signing_algorithms=("ES256",)))
    async with running(await quick_builder(options=options)) as server:
        token = (await server.token({**CC, "scope": "api1"}, headers=basic("m2m", "secret"))).json()["access_token"]
        assert jwt_parts(token)[0]["alg"] == "ES256"
        assert (await verified_claims(server, token))["client_id"] == "m2m"
