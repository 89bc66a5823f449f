"""security.md §1.15, dynamic client registration (RFC 7591): the cases tests/registration/ does not cover (case and
whitespace variants of dangerous schemes, weak or duplicated keys, https-only metadata, more privilege fields,
client-supplied names on the consent page, JSON strings that cannot be encoded)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from identityserver.client.dpop import DPoPKey
from identityserver.crypto.hashing import sha256_base64
from identityserver.crypto.jwk import public_jwk
from identityserver.options import DynamicClientRegistrationOptions
from tests.security.support import server_with
from tests.support.browser import Browser, authorize_path, pkce_pair, sign_in

CODE_CLIENT = {
    "client_name": "App",
    "redirect_uris": ["https://app.example/cb"],
    "grant_types": ["authorization_code"],
    "scope": "openid api1",
}


#: An initial access token whose policy (docs/registration.md) opens client_credentials and api1, so that these
#: cases reach the checks they are about.
TOKEN = "trusted-registrant"
OPTIONS = DynamicClientRegistrationOptions(
    enabled=True,
    initial_access_tokens={
        "trusted": {"token_hash": sha256_base64(TOKEN), "grant_types": ("client_credentials",), "scopes": ("api1",)}
    },
)


@pytest.fixture
async def server():
    async with server_with(dynamic_client_registration=OPTIONS) as srv:
        yield srv


async def register(server, body: dict | str):
    content = body if isinstance(body, str) else json.dumps(body)
    return await server.client.post(
        "/connect/register",
        content=content,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )


async def registered_clients(server) -> int:
    return len(server.services.clients.all())


@pytest.mark.parametrize(
    "uri",
    [
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>x</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "https://app.example/cb#",
        "https://app.example\\@evil.example/cb",
        "http://192.168.0.1/cb",
        "https:///cb",
        "https://app.example/cb\n",
    ],
)
@pytest.mark.parametrize("field", ["redirect_uris", "post_logout_redirect_uris"])
async def test_dangerous_or_malformed_redirect_uris_are_refused(server, field, uri):
    before = await registered_clients(server)
    response = await register(server, {**CODE_CLIENT, field: [uri]})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_redirect_uri"
    assert await registered_clients(server) == before


@pytest.mark.parametrize(
    "jwk",
    [
        public_jwk(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "oct", "alg": "HS256"},
        {**DPoPKey.generate().jwk, "d": "AAAA", "alg": "ES256"},
        {"kty": "RSA", "n": "AQAB", "e": "AQAB", "alg": "RS256"},
    ],
)
async def test_weak_symmetric_or_private_keys_are_refused(server, jwk):
    response = await register(server, {"grant_types": ["client_credentials"], "scope": "api1", "jwks": {"keys": [jwk]}})
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"


async def test_jwks_and_jwks_uri_together_are_refused(server):
    response = await register(
        server,
        {
            "grant_types": ["client_credentials"],
            "scope": "api1",
            "jwks": {"keys": [DPoPKey.generate().jwk]},
            "jwks_uri": "https://app.example/jwks",
        },
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"


async def test_jwks_with_a_duplicate_kid_is_refused(server):
    """RFC 7517 §4.5, security.md item 124: kid values of a registered jwks are distinct."""
    keys = [{**DPoPKey.generate().jwk, "kid": "k"}, {**DPoPKey.generate().jwk, "kid": "k"}]
    response = await register(server, {"grant_types": ["client_credentials"], "scope": "api1", "jwks": {"keys": keys}})
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"


async def test_initiate_login_uri_over_http_is_refused(server):
    """OIDC Registration §2: initiate_login_uri MUST use https."""
    response = await register(server, {**CODE_CLIENT, "initiate_login_uri": "http://127.0.0.1/login"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"


@pytest.mark.parametrize("field", ["initiate_login_uri", "client_uri", "logo_uri"])
@pytest.mark.parametrize("uri", ["http://app.example/x", "javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:,x"])
async def test_non_https_metadata_uris_are_refused(server, field, uri):
    response = await register(server, {**CODE_CLIENT, field: uri})
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"


async def test_more_privilege_fields_are_ignored(server):
    body = {
        **CODE_CLIENT,
        "allow_offline_access": True,
        "allowed_scopes": ["openid", "api1", "api2"],
        "allowed_grant_types": ["password", "client_credentials"],
        "require_client_secret": False,
        "allow_access_tokens_via_browser": True,
        "claims": {"role": "admin"},
        "client_claims_prefix": "",
        "always_send_client_claims": True,
        "allowed_cors_origins": ["https://evil.example"],
        "enabled": True,
        "protocol_type": "saml2",
        "identity_provider_restrictions": [],
        "enable_local_login": True,
        "allow_plain_text_pkce": True,
    }
    response = await register(server, body)
    assert response.status_code == 201, response.text  # unknown metadata is ignored (RFC 7591 §2)
    client = await server.services.clients.find_client_by_id(response.json()["client_id"])
    assert client.allowed_grant_types == ["authorization_code"]
    assert client.allowed_scopes == ["openid", "api1"] and not client.allow_offline_access
    assert client.require_client_secret and not client.allow_access_tokens_via_browser
    assert client.claims == [] and not client.always_send_client_claims
    assert client.allowed_cors_origins == [] and client.protocol_type == "oidc"
    assert not client.allow_plain_text_pkce and client.require_pkce
    evil = await server.client.get("/connect/userinfo", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers


async def test_client_supplied_name_is_html_escaped_on_the_consent_page(server):
    name = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    body = (
        await register(server, {**CODE_CLIENT, "client_name": name, "client_uri": "https://app.example/about"})
    ).json()
    assert body["client_name"] == name  # stored verbatim (RFC 7591 §3.2.1)
    browser = Browser(server.client)
    await sign_in(browser)
    _, challenge = pkce_pair()
    page = await browser.get(
        authorize_path(
            {
                "client_id": body["client_id"],
                "response_type": "code",
                "redirect_uri": "https://app.example/cb",
                "scope": "openid api1",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
    )
    assert page.status_code == 200 and "/consent" in str(page.url)
    assert "<script>alert(" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;" in page.text
    assert 'href="https://app.example/about" rel="noreferrer"' in page.text


@pytest.mark.parametrize(
    "field, value",
    [
        ("client_name", "\ud800"),
        ("redirect_uris", ["https://app.example/\ud800"]),
        ("post_logout_redirect_uris", ["https://app.example/\udfff"]),
    ],
)
async def test_metadata_with_a_lone_surrogate_is_refused_and_nothing_is_registered(server, field, value):
    """security.md items 149, F9: strings that are not Unicode scalar values are refused before anything is stored."""
    before = await registered_clients(server)
    response = await register(server, json.dumps({**CODE_CLIENT, field: value}))
    assert response.status_code == 400, response.status_code
    assert await registered_clients(server) == before


async def test_metadata_with_nul_or_astral_characters_is_stored_faithfully_or_refused(server):
    response = await register(server, {**CODE_CLIENT, "client_name": "a\u0000b \U0001f600"})
    assert response.status_code in (201, 400), response.text
    if response.status_code == 201:
        assert response.json()["client_name"] == "a\u0000b \U0001f600"
