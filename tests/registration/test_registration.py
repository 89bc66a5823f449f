"""Dynamic client registration (RFC 7591): registered clients work end to end; every rule has a negative case."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from urllib.parse import urlencode

import pytest

from identityserver.client.dpop import DPoPKey
from identityserver.configuration.host import create_builder
from identityserver.configuration.loader import parse_configuration
from identityserver.crypto.hashing import sha256_base64
from identityserver.crypto.jwt import encode_jws
from identityserver.options import DynamicClientRegistrationOptions
from tests.registration.support import running_sql
from tests.support.browser import Browser, pkce_pair, redirect_parameters
from tests.support.server import basic, make_builder, running

CONFIG = """
[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]

[[users]]
subject_id = "1"
username = "alice"
password = "alice"
"""


#: A partner's initial access token whose policy allows machine-to-machine clients for api1 (docs/registration.md).
PARTNER_TOKEN = "partner-initial-access-token"
PARTNER_POLICY = {
    "partner": {"token_hash": sha256_base64(PARTNER_TOKEN), "grant_types": ("client_credentials",), "scopes": ("api1",)}
}
PARTNER = {"Authorization": f"Bearer {PARTNER_TOKEN}"}


def builder(token: str | None = None, **options):
    b = make_builder(parse_configuration(tomllib.loads(CONFIG)))
    policies = {} if token else PARTNER_POLICY
    b.options = dataclasses.replace(
        b.options,
        dynamic_client_registration=DynamicClientRegistrationOptions(
            enabled=True, initial_access_token=token, initial_access_tokens=policies, **options
        ),
    )
    return b


@pytest.fixture
async def server():
    async with running(builder()) as srv:
        yield srv


async def register(server, body, headers=None):
    return await server.client.post(
        "/connect/register",
        content=json.dumps(body),
        headers={"Content-Type": "application/json", **(PARTNER if headers is None else headers)},
    )


CODE_CLIENT = {
    "client_name": "App",
    "redirect_uris": ["https://app.example/cb"],
    "grant_types": ["authorization_code", "refresh_token"],
    "scope": "openid api1",
}


async def test_registered_code_client_completes_the_code_flow(server):
    response = await register(server, CODE_CLIENT)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["client_secret_expires_at"] == 0 and len(body["client_secret"]) >= 43
    assert body["redirect_uris"] == ["https://app.example/cb"]
    assert body["scope"] == "openid api1 offline_access" and body["response_types"] == ["code"]
    browser = Browser(server.client)
    verifier, challenge = pkce_pair()
    query = urlencode(
        {
            "client_id": body["client_id"],
            "response_type": "code",
            "redirect_uri": "https://app.example/cb",
            "scope": "openid api1 offline_access",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    page = await browser.login(await browser.get(f"/connect/authorize?{query}"), "alice", "alice")
    assert "requesting your permission" in page.text  # registered clients always ask for consent
    final = await browser.submit(page, {"button": "yes"})
    code = redirect_parameters(final)["code"]
    token = await server.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://app.example/cb",
            "code_verifier": verifier,
        },
        headers=basic(body["client_id"], body["client_secret"]),
    )
    assert token.status_code == 200, token.text
    assert "refresh_token" in token.json()


async def test_registered_client_credentials_client_gets_a_token(server):
    body = (await register(server, {"grant_types": ["client_credentials"], "scope": "api1"})).json()
    token = await server.token(
        {"grant_type": "client_credentials"}, headers=basic(body["client_id"], body["client_secret"])
    )
    assert token.status_code == 200, token.text


async def test_registered_private_key_jwt_client_authenticates_with_its_key(server):
    key = DPoPKey.generate("ES256")
    body = (
        await register(server, {"grant_types": ["client_credentials"], "scope": "api1", "jwks": {"keys": [key.jwk]}})
    ).json()
    assert body["token_endpoint_auth_method"] == "private_key_jwt" and "client_secret" not in body
    now = int(server.clock.timestamp())
    assertion = encode_jws(
        {"alg": "ES256"},
        {"iss": body["client_id"], "sub": body["client_id"], "aud": server.issuer, "exp": now + 60, "jti": "j1"},
        key.private_key,
    )
    token = await server.token(
        {
            "grant_type": "client_credentials",
            "client_id": body["client_id"],
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        }
    )
    assert token.status_code == 200, token.text


async def test_public_registration_gets_no_secret_and_pkce(server):
    body = (await register(server, {**CODE_CLIENT, "token_endpoint_auth_method": "none"})).json()
    assert "client_secret" not in body and body["token_endpoint_auth_method"] == "none"
    client = await server.services.clients.find_client_by_id(body["client_id"])
    assert client is not None and not client.require_client_secret and client.require_pkce


async def test_privileged_fields_are_ignored(server):
    body = (
        await register(
            server,
            {
                **CODE_CLIENT,
                "client_id": "chosen",
                "client_secret": "chosen",
                "require_pkce": False,
                "require_consent": False,
            },
        )
    ).json()
    assert body["client_id"] != "chosen" and body["client_secret"] != "chosen"
    client = await server.services.clients.find_client_by_id(body["client_id"])
    assert client.require_pkce and client.require_consent
    assert await server.services.clients.find_client_by_id("chosen") is None


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"grant_types": ["authorization_code"]}, "invalid_redirect_uri"),
        (
            {"grant_types": ["client_credentials"], "scope": "api1", "redirect_uris": ["https://a.example/cb"]},
            "invalid_redirect_uri",
        ),
        ({**CODE_CLIENT, "redirect_uris": ["http://app.example/cb"]}, "invalid_redirect_uri"),
        ({**CODE_CLIENT, "redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        ({**CODE_CLIENT, "redirect_uris": ["https://app.example/cb#frag"]}, "invalid_redirect_uri"),
        ({**CODE_CLIENT, "redirect_uris": ["https://user@evil.example/cb"]}, "invalid_redirect_uri"),
        ({**CODE_CLIENT, "scope": "openid admin"}, "invalid_client_metadata"),
        ({"grant_types": ["refresh_token"]}, "invalid_client_metadata"),
        ({**CODE_CLIENT, "grant_types": ["implicit"]}, "invalid_client_metadata"),
        ({**CODE_CLIENT, "grant_types": ["password"]}, "invalid_client_metadata"),
        ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
        (
            {"grant_types": ["client_credentials"], "scope": "api1", "token_endpoint_auth_method": "none"},
            "invalid_client_metadata",
        ),
        ({**CODE_CLIENT, "token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
        ({**CODE_CLIENT, "token_endpoint_auth_method": "client_secret_jwt"}, "invalid_client_metadata"),
        ({**CODE_CLIENT, "jwks_uri": "https://app.example/jwks"}, "invalid_client_metadata"),
        ({**CODE_CLIENT, "response_types": ["token"]}, "invalid_client_metadata"),
        ({**CODE_CLIENT, "access_token_lifetime": 0}, "invalid_client_metadata"),
        ({**CODE_CLIENT, "access_token_lifetime": True}, "invalid_client_metadata"),
        ({**CODE_CLIENT, "default_max_age": -1}, "invalid_client_metadata"),
        ({**CODE_CLIENT, "logo_uri": "javascript:alert(1)"}, "invalid_client_metadata"),
        ({**CODE_CLIENT, "client_name": 7}, "invalid_client_metadata"),
        ({**CODE_CLIENT, "software_statement": "eyJ..."}, "invalid_software_statement"),
    ],
)
async def test_invalid_metadata_is_refused_and_nothing_is_registered(server, body, error):
    response = await register(server, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error


async def test_private_key_in_jwks_is_refused(server):
    key = DPoPKey.generate("ES256")
    private = {**key.jwk, "d": "AAAA"}
    response = await register(
        server, {"grant_types": ["client_credentials"], "scope": "api1", "jwks": {"keys": [private]}}
    )
    assert response.json()["error"] == "invalid_client_metadata"


@pytest.mark.parametrize("raw", [b"not json", b"[1,2]", b'{"a": NaN}', b"[" * 100000])
async def test_malformed_documents_are_invalid_client_metadata(server, raw):
    response = await server.client.post(
        "/connect/register", content=raw, headers={"Content-Type": "application/json", **PARTNER}
    )
    assert response.status_code in (400, 413)
    if response.status_code == 400:
        assert response.json()["error"] == "invalid_client_metadata"


async def test_non_json_body_is_415_and_get_is_405(server):
    assert (await server.client.post("/connect/register", data={"a": "b"}, headers=PARTNER)).status_code == 415
    assert (await server.client.patch("/connect/register")).status_code == 405


async def test_initial_access_token_is_required_when_configured():
    async with running(builder("s3cret")) as server:
        code_client = {**CODE_CLIENT, "scope": "openid"}
        assert (await register(server, code_client, {})).status_code == 401
        wrong = await register(server, code_client, {"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_token"
        assert (await register(server, code_client, {"Authorization": "Bearer s3cret"})).status_code == 201


async def test_discovery_advertises_registration_only_when_enabled(server):
    doc = (await server.client.get("/.well-known/openid-configuration")).json()
    assert doc["registration_endpoint"] == f"{server.issuer}/connect/register"
    async with running(make_builder(parse_configuration(tomllib.loads(CONFIG)))) as plain:
        doc = (await plain.client.get("/.well-known/openid-configuration")).json()
        assert "registration_endpoint" not in doc
        assert (await register(plain, CODE_CLIENT, {})).status_code == 404


async def test_registration_into_the_database_is_served_at_once(tmp_path):
    config = parse_configuration(tomllib.loads(CONFIG))
    config.options = dataclasses.replace(
        config.options,
        issuer_uri="https://idp.example",
        dynamic_client_registration=DynamicClientRegistrationOptions(
            enabled=True, initial_access_tokens=PARTNER_POLICY
        ),
    )
    b = create_builder(config, tmp_path)
    from tests.support.clock import FakeClock

    b.set_clock(FakeClock())
    async with running_sql(b) as server:
        missing = await server.token({"grant_type": "client_credentials"}, headers=basic("unknown", "x"))
        assert missing.status_code == 401
        body = (await register(server, {"grant_types": ["client_credentials"], "scope": "api1"})).json()
        token = await server.token(
            {"grant_type": "client_credentials"}, headers=basic(body["client_id"], body["client_secret"])
        )
        assert token.status_code == 200, token.text
