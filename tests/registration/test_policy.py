"""Issue 16 item 1 (open registration handed out machine-to-machine tokens for every API) and the registered-client
URI checks of item 7, over HTTP: registered clients are untrusted by default, initial access tokens carry a policy,
open registration is rate-limited per address (shared by every process), descriptive URIs name public hosts."""

from __future__ import annotations

import dataclasses
import tomllib

import httpx
import pytest

from identityserver.configuration.host import create_builder
from identityserver.configuration.loader import ConfigError, parse_configuration
from identityserver.crypto.hashing import sha256_base64
from identityserver.options import DynamicClientRegistrationOptions, ForwardedHeadersOptions
from tests.registration.support import running_sql
from tests.support.clock import FakeClock
from tests.support.process import serve
from tests.support.server import basic, make_builder, running

CONFIG = """
[[identity_resources]]
name = "openid"
user_claims = ["sub"]

[[identity_resources]]
name = "profile"
user_claims = ["name"]

[[api_scopes]]
name = "api1"

[[api_scopes]]
name = "api2"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]

[[api_resources]]
name = "urn:api2"
scopes = ["api2"]
"""
CODE = {"redirect_uris": ["https://app.example/cb"], "scope": "openid profile"}
OPS_TOKEN = "ops-initial-access-token"


def builder(**options):
    b = make_builder(parse_configuration(tomllib.loads(CONFIG)))
    b.options = dataclasses.replace(
        b.options, dynamic_client_registration=DynamicClientRegistrationOptions(enabled=True, **options)
    )
    return b


async def register(server, body, headers=None):
    return await server.client.post("/connect/register", json=body, headers=headers or {})


def registered(server) -> int:
    return len(server.services.clients.all())


async def test_anonymous_machine_to_machine_registration_is_refused():
    """The attack of issue 16 item 1: before, this returned 201 and a client whose tokens the APIs accepted."""
    async with running(builder()) as server:
        response = await register(server, {"grant_types": ["client_credentials"], "scope": "api1 api2"})
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_client_metadata",
            "error_description": "grant type 'client_credentials' is not open to registered clients",
        }
        assert registered(server) == 0


@pytest.mark.parametrize(
    "grants",
    [["password"], ["urn:ietf:params:oauth:grant-type:token-exchange"], ["authorization_code", "client_credentials"]],
)
async def test_privileged_grants_need_a_policy(grants):
    async with running(builder()) as server:
        response = await register(server, {**CODE, "grant_types": grants})
        assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"
        assert "not open to registered clients" in response.json()["error_description"]
        assert registered(server) == 0


async def test_open_registration_gets_identity_scopes_only_by_default():
    async with running(builder()) as server:
        api = await register(server, {**CODE, "scope": "openid api1"})
        assert api.status_code == 400
        assert api.json()["error_description"] == "scope 'api1' is not open to registered clients"
        ok = await register(server, CODE)
        assert ok.status_code == 201, ok.text
        assert ok.json()["grant_types"] == ["authorization_code"] and ok.json()["scope"] == "openid profile"


async def test_allowed_scopes_opens_api_scopes_to_every_registrant():
    async with running(builder(allowed_scopes=("openid", "api1"))) as server:
        assert (await register(server, {**CODE, "scope": "openid api1"})).status_code == 201
        assert (await register(server, {**CODE, "scope": "openid profile"})).status_code == 400  # not listed
        assert (await register(server, {**CODE, "scope": "openid api2"})).status_code == 400


async def test_an_initial_access_token_policy_allows_what_it_lists_and_no_more():
    policy = {
        "ops": {"token_hash": sha256_base64(OPS_TOKEN), "grant_types": ("client_credentials",), "scopes": ("api1",)}
    }
    async with running(builder(initial_access_tokens=policy)) as server:
        ops = {"Authorization": f"Bearer {OPS_TOKEN}"}
        assert (await register(server, {"grant_types": ["client_credentials"], "scope": "api1"})).status_code == 401
        wrong = {"Authorization": "Bearer " + "x" * 20}
        assert (
            await register(server, {"grant_types": ["client_credentials"], "scope": "api1"}, wrong)
        ).status_code == 401
        too_much = await register(server, {"grant_types": ["client_credentials"], "scope": "api1 api2"}, ops)
        assert too_much.status_code == 400 and "'api2'" in too_much.json()["error_description"]
        password = await register(server, {"grant_types": ["password"], "scope": "api1"}, ops)
        assert password.status_code == 400
        response = await register(server, {"grant_types": ["client_credentials"], "scope": "api1"}, ops)
        assert response.status_code == 201, response.text
        body = response.json()
        token = await server.token(
            {"grant_type": "client_credentials", "scope": "api1"},
            headers=basic(body["client_id"], body["client_secret"]),
        )
        assert token.status_code == 200, token.text
        code = await register(server, {**CODE, "scope": "openid api1"}, ops)  # the policy's scopes serve code clients
        assert code.status_code == 201, code.text


async def test_the_plain_initial_access_token_gets_the_default_policy():
    async with running(builder(initial_access_token="legacy")) as server:
        legacy = {"Authorization": "Bearer legacy"}
        refused = await register(server, {"grant_types": ["client_credentials"], "scope": "api1"}, legacy)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_client_metadata"
        assert (await register(server, CODE, legacy)).status_code == 201


async def test_open_registration_is_rate_limited_per_address():
    options = {"open_registration_limit": 3, "open_registration_window": 600}
    b = builder(**options)
    b.options = dataclasses.replace(
        b.options, forwarded_headers=ForwardedHeadersOptions(trusted_proxies=("203.0.113.7",))
    )
    async with running(b) as server:
        first = {"X-Forwarded-For": "198.51.100.1"}
        for _ in range(3):
            assert (await register(server, CODE, first)).status_code == 201
        limited = await register(server, CODE, first)
        assert limited.status_code == 429 and limited.json()["error"] == "temporarily_unavailable"
        assert 0 < int(limited.headers["retry-after"]) <= 600
        assert registered(server) == 3
        assert (await register(server, CODE, {"X-Forwarded-For": "198.51.100.2"})).status_code == 201  # another one
        server.clock.advance(seconds=600)
        assert (await register(server, CODE, first)).status_code == 201  # the next window


async def test_the_rate_limit_is_shared_by_servers_on_one_database(tmp_path):
    """Two processes (two servers on one database) count registrations from an address together."""
    config = parse_configuration(tomllib.loads(CONFIG))
    config.options = dataclasses.replace(
        config.options,
        issuer_uri="https://idp.example",
        dynamic_client_registration=DynamicClientRegistrationOptions(enabled=True, open_registration_limit=2),
    )
    clock = FakeClock()
    first, second = create_builder(config, tmp_path), create_builder(config, tmp_path)
    first.set_clock(clock)
    second.set_clock(clock)
    async with running_sql(first) as one, running_sql(second) as two:
        assert (await register(one, CODE)).status_code == 201
        assert (await register(two, CODE)).status_code == 201
        assert (await register(one, CODE)).status_code == 429
        assert (await register(two, CODE)).status_code == 429


async def test_registration_with_a_token_is_not_rate_limited():
    policy = {"ops": {"token_hash": sha256_base64(OPS_TOKEN)}}
    async with running(builder(initial_access_tokens=policy, open_registration_limit=1)) as server:
        for _ in range(3):
            assert (await register(server, CODE, {"Authorization": f"Bearer {OPS_TOKEN}"})).status_code == 201


@pytest.mark.parametrize("field", ["logo_uri", "client_uri", "initiate_login_uri", "policy_uri", "tos_uri"])
@pytest.mark.parametrize(
    "uri",
    [
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://10.0.0.5/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://intranet.internal/x",
        "https://192.168.1.1:8443/x",
    ],
)
async def test_descriptive_uris_naming_internal_addresses_are_refused(field, uri):
    """Issue 16 item 7: logo, client, initiate-login, policy and terms URIs are refused like back-channel ones."""
    async with running(builder()) as server:
        response = await register(server, {**CODE, field: uri})
        assert response.status_code == 400, response.text
        assert response.json() == {
            "error": "invalid_client_metadata",
            "error_description": f"{field} must name a public host",
        }
        assert registered(server) == 0


async def test_public_descriptive_uris_are_accepted():
    uris = {
        "logo_uri": "https://cdn.example/logo.png",
        "client_uri": "https://app.example/",
        "initiate_login_uri": "https://app.example/login",
        "policy_uri": "https://app.example/privacy",
        "tos_uri": "https://app.example/terms",
    }
    async with running(builder()) as server:
        response = await register(server, {**CODE, **uris})
        assert response.status_code == 201, response.text
        client = await server.services.clients.find_client_by_id(response.json()["client_id"])
        assert client.logo_uri == uris["logo_uri"] and client.initiate_login_uri == uris["initiate_login_uri"]


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('[options.dynamic_client_registration.initial_access_tokens.a]\ntoken_hash = "short"', "token_hash"),
        (
            f'[options.dynamic_client_registration.initial_access_tokens.a]\ntoken_hash = "{sha256_base64("t")}"\n'
            'grant_types = ["implicit"]',
            "grant_types",
        ),
        (
            f'[options.dynamic_client_registration.initial_access_tokens.a]\ntoken_hash = "{sha256_base64("t")}"\n'
            'token = "t"',
            "unknown field",
        ),
        ("[options.dynamic_client_registration]\nopen_registration_window = 0", "window"),
        ("[options.dynamic_client_registration]\nrequire_software_statement = true", "software_statement_issuers"),
        ('[options.dynamic_client_registration.software_statement_issuers]\n"https://iss" = "{}"', "JWKS"),
    ],
)
def test_invalid_policies_are_configuration_errors(table, problem):
    with pytest.raises(ConfigError, match=problem):
        parse_configuration(tomllib.loads(table))


def test_policies_are_read_from_the_configuration_file():
    text = f"""
[options.dynamic_client_registration]
enabled = true
allowed_scopes = ["openid", "api1"]

[options.dynamic_client_registration.initial_access_tokens.partner]
token_hash = "{sha256_base64(OPS_TOKEN)}"
grant_types = ["client_credentials", "password"]
scopes = ["api2"]
"""
    options = parse_configuration(tomllib.loads(text)).options.dynamic_client_registration
    assert options.allowed_scopes == ("openid", "api1")
    assert options.initial_access_tokens["partner"]["grant_types"] == ("client_credentials", "password")


def test_the_attack_fails_against_identityserver_serve(tmp_path):
    """Issue 16 item 1 as reported: an anonymous POST to `identityserver serve` with open registration."""
    config = tmp_path / "config.toml"
    config.write_text("[options.dynamic_client_registration]\nenabled = true\nopen_registration_limit = 2\n" + CONFIG)
    with serve(config, tmp_path / "state") as issuer:
        attack = httpx.post(
            f"{issuer}/connect/register", json={"grant_types": ["client_credentials"], "scope": "api1 api2"}
        )
        assert attack.status_code == 400 and attack.json()["error"] == "invalid_client_metadata"
        assert httpx.post(f"{issuer}/connect/register", json=CODE).status_code == 201
        assert httpx.post(f"{issuer}/connect/register", json=CODE).status_code == 429  # the attack counted too
