"""Discovery and JWKS (OIDC Discovery §3-4, RFC 8414 §2-3, RFC 7517; duende §1.1, §1.23; security.md 1.16):
everything advertised is enforced, nothing unimplemented is advertised, the issuer never follows the Host."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from identityserver.crypto.jwk import PRIVATE_MEMBERS, PrivateKey, public_jwk
from identityserver.options import (
    DiscoveryOptions,
    EndpointsOptions,
    IdentityServerOptions,
    KeyManagementOptions,
)
from tests.support import data as test_data
from tests.support.client_auth import (
    ASSERTION_TYPE,
    assertion_claims,
    assertion_form,
    client_assertion,
    configuration,
    form_basic,
    jwt_parts,
)
from tests.support.quick import quick_builder
from tests.support.server import Server, basic, running

DISCOVERY = "/.well-known/openid-configuration"
JWKS = "/.well-known/openid-configuration/jwks"

#: Endpoints of IdentityServer 6.3 (and later drafts) that this server does not implement yet.
NOT_IMPLEMENTED = {
    "registration_endpoint": "/connect/register",
    "mtls_endpoint_aliases": "/connect/mtls/token",
}

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEYS = {
    "ES256": ec.generate_private_key(ec.SECP256R1()),
    "ES384": ec.generate_private_key(ec.SECP384R1()),
    "ES512": ec.generate_private_key(ec.SECP521R1()),
}
ED_KEY = ed25519.Ed25519PrivateKey.generate()


def signing_key(alg: str):
    if alg[:2] in ("RS", "PS"):
        return "jwt.rsa", RSA_KEY
    if alg in EC_KEYS:
        return f"jwt.{alg.lower()}", EC_KEYS[alg]
    if alg == "EdDSA":
        return "jwt.ed25519", ED_KEY
    raise AssertionError(f"discovery advertises {alg}, which this test does not know how to exercise")


def jwt_clients_toml() -> str:
    entries = []
    clients: list[tuple[str, PrivateKey]] = [
        ("jwt.rsa", RSA_KEY),
        *((f"jwt.{alg.lower()}", key) for alg, key in EC_KEYS.items()),
        ("jwt.ed25519", ED_KEY),
    ]
    for client_id, key in clients:
        entries.append(
            f"""
[[clients]]
client_id = "{client_id}"
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
token_endpoint_auth_method = "private_key_jwt"
client_secrets = [{{ type = "JWK", value = '{json.dumps(public_jwk(key))}' }}]
"""
        )
    return "".join(entries) + '\n[[api_scopes]]\nname = "api1"\n'


async def discovery(server: Server, **headers: str) -> dict:
    response = await server.client.get(DISCOVERY, headers=headers)
    assert response.status_code == 200
    return response.json()


# -- issuer ---------------------------------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with running(await quick_builder()) as srv:
        yield srv


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},
        {"Host": "IDP.EXAMPLE"},
        {"Host": "idp.example:8443", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"},
        {"Host": "evil.example", "Forwarded": "host=evil.example;proto=http"},
    ],
)
async def test_configured_issuer_is_byte_identical_whatever_the_host_header(server, headers):
    response = await server.client.get(DISCOVERY, headers=headers)
    assert b'"issuer":"https://idp.example"' in response.content
    document = response.json()
    assert document["issuer"] == "https://idp.example"
    for name, value in document.items():
        if name.endswith(("_endpoint", "_uri", "_iframe")):
            assert value.startswith("https://idp.example/"), name


async def test_issuer_in_discovery_equals_iss_of_issued_tokens(server):
    document = await discovery(server, Host="evil.example")
    token = (
        await server.token(
            {"grant_type": "client_credentials"}, headers={**basic("m2m", "secret"), "Host": "evil.example"}
        )
    ).json()["access_token"]
    assert jwt_parts(token)[1]["iss"] == document["issuer"]


async def test_trailing_slash_of_the_configured_issuer_is_not_published():
    config = configuration('issuer_uri = "https://idp.example/"\n')
    async with running(await quick_builder(config, issuer=None)) as srv:
        assert (await discovery(srv, Host="other.example"))["issuer"] == "https://idp.example"


async def test_issuer_without_configuration_comes_from_the_request_lowercased():
    builder = await quick_builder(issuer=None)
    builder.options = replace(builder.options, allowed_hosts=("login.example",))
    async with running(builder, base_url="https://Login.Example:8443") as srv:
        document = await discovery(srv)
        assert document["issuer"] == "https://login.example:8443"
        assert document["token_endpoint"] == "https://login.example:8443/connect/token"


async def test_the_prepared_document_follows_each_requests_issuer():
    """The bytes are kept between requests, but never served for another issuer than the request's own."""
    builder = await quick_builder(issuer=None)
    builder.options = replace(builder.options, allowed_hosts=("one.example", "two.example"))
    async with running(builder) as srv:
        for host in ("one.example", "two.example", "one.example"):
            response = await srv.client.get(DISCOVERY, headers={"Host": host})
            document = response.json()
            assert document["issuer"] == f"https://{host}"
            assert document["token_endpoint"] == f"https://{host}/connect/token"
            assert response.headers["content-length"] == str(len(response.content))


@pytest.mark.parametrize("host", ["evil.example/path", "evil.example\\x", "a b", "evil.example:99999999"])
async def test_malformed_host_without_a_configured_issuer_is_400(host):
    async with running(await quick_builder(issuer=None)) as srv:
        response = await srv.client.get(DISCOVERY, headers={"Host": host})
        assert response.status_code == 400


# -- HTTP hygiene -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [DISCOVERY, JWKS])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_discovery_and_jwks_answer_only_get(server, path, method):
    response = await server.client.request(method, path, content=b"x=1")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


@pytest.mark.parametrize("path", [DISCOVERY, JWKS])
async def test_discovery_and_jwks_set_no_cookie_and_are_not_cached_by_default(server, path):
    response = await server.client.get(path)
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", [DISCOVERY, JWKS])
async def test_response_cache_interval_sets_max_age(path):
    options = replace(IdentityServerOptions(), discovery=DiscoveryOptions(response_cache_interval=3600))
    async with running(await quick_builder(options=options)) as srv:
        response = await srv.client.get(path)
        assert response.headers["cache-control"] == "max-age=3600"
        # shorter than the propagation time, so a new key is always seen before it signs (security.md 137)
        assert options.key_management.propagation_time > 3600


async def test_disabled_discovery_endpoint_is_404():
    options = replace(IdentityServerOptions(), endpoints=EndpointsOptions(enable_discovery_endpoint=False))
    async with running(await quick_builder(options=options)) as srv:
        assert (await srv.client.get(DISCOVERY)).status_code == 404
        assert (await srv.client.get(JWKS)).status_code == 404


# -- advertised == enforced ---------------------------------------------------------------------------------


async def test_every_advertised_endpoint_is_served(server):
    document = await discovery(server)
    urls = {name: value for name, value in document.items() if name.endswith(("_endpoint", "_iframe", "jwks_uri"))}
    assert {"jwks_uri", "token_endpoint", "introspection_endpoint", "revocation_endpoint"} <= set(urls)
    for name, url in urls.items():
        path = urlsplit(url).path
        assert path in server.services.router.paths, name
        for method in ("GET", "POST"):
            response = await server.client.request(method, path)
            assert response.status_code != 404, (name, method)


async def test_unimplemented_endpoints_are_neither_advertised_nor_served(server):
    document = await discovery(server)
    for name, path in NOT_IMPLEMENTED.items():
        assert name not in document
        assert (await server.client.post(path)).status_code == 404, path


@pytest.mark.parametrize(
    ("flag", "name", "path"),
    [
        ("enable_introspection_endpoint", "introspection_endpoint", "/connect/introspect"),
        ("enable_token_revocation_endpoint", "revocation_endpoint", "/connect/revocation"),
        ("enable_token_endpoint", "token_endpoint", "/connect/token"),
        ("enable_device_authorization_endpoint", "device_authorization_endpoint", "/connect/deviceauthorization"),
        ("enable_backchannel_authentication_endpoint", "backchannel_authentication_endpoint", "/connect/ciba"),
        ("enable_pushed_authorization_endpoint", "pushed_authorization_request_endpoint", "/connect/par"),
    ],
)
async def test_disabled_endpoint_is_neither_advertised_nor_served(flag, name, path):
    options = replace(IdentityServerOptions(), endpoints=EndpointsOptions(**{flag: False}))
    async with running(await quick_builder(options=options)) as srv:
        document = await discovery(srv)
        assert name not in document
        assert f"{name.removesuffix('_endpoint')}_endpoint_auth_methods_supported" not in document
        assert (await srv.client.post(path)).status_code == 404


async def test_every_advertised_token_endpoint_grant_type_is_recognised(server):
    document = await discovery(server)
    assert "client_credentials" in document["grant_types_supported"]
    for grant_type in document["grant_types_supported"]:
        if grant_type == "implicit":  # an authorization-endpoint grant: no token request exists for it
            continue
        response = await server.token({"grant_type": grant_type}, headers=basic("m2m", "secret"))
        assert response.json().get("error") != "unsupported_grant_type", grant_type


@pytest.mark.parametrize(
    "grant_type",
    ["implicit"],
)
async def test_grant_type_that_is_not_served_at_the_token_endpoint_is_unsupported(server, grant_type):
    document = await discovery(server)
    assert grant_type == "implicit" or grant_type not in document["grant_types_supported"]
    response = await server.token({"grant_type": grant_type}, headers=basic("m2m", "secret"))
    assert response.json()["error"] == "unsupported_grant_type"


async def test_every_advertised_token_endpoint_auth_method_authenticates(server):
    methods = (await discovery(server))["token_endpoint_auth_methods_supported"]
    assert set(methods) == {"client_secret_basic", "client_secret_post", "private_key_jwt"}
    requests = {
        "client_secret_basic": ({"grant_type": "client_credentials"}, basic("m2m", "secret")),
        "client_secret_post": ({"grant_type": "client_credentials", "client_id": "m2m", "client_secret": "secret"}, {}),
        "private_key_jwt": (
            assertion_form(client_assertion(test_data.RSA_CLIENT_KEY, "RS256", assertion_claims(server))),
            {},
        ),
    }
    for method in methods:
        data, headers = requests[method]
        assert (await server.token(data, headers=headers)).status_code == 200, method


async def test_every_advertised_client_assertion_algorithm_is_accepted():
    async with running(await quick_builder(configuration(jwt_clients_toml()))) as srv:
        algorithms = (await discovery(srv))["token_endpoint_auth_signing_alg_values_supported"]
        assert "none" not in algorithms
        assert not [alg for alg in algorithms if alg.startswith("HS")]
        for alg in algorithms:
            client_id, key = signing_key(alg)
            assertion = client_assertion(key, alg, assertion_claims(srv, client_id=client_id))
            response = await srv.token(assertion_form(assertion))
            assert response.status_code == 200, (alg, response.text)


async def test_every_advertised_introspection_auth_method_authenticates_an_api(server):
    token = (await server.token({"grant_type": "client_credentials"}, headers=basic("m2m", "secret"))).json()
    methods = (await discovery(server))["introspection_endpoint_auth_methods_supported"]
    assert {"client_secret_basic", "client_secret_post"} <= set(methods)
    assert "private_key_jwt" not in methods  # API resources have shared secrets only
    basic_call = await server.client.post(
        "/connect/introspect", data={"token": token["access_token"]}, headers=form_basic("urn:api1", "api1-secret")
    )
    post_call = await server.client.post(
        "/connect/introspect",
        data={"token": token["access_token"], "client_id": "urn:api1", "client_secret": "api1-secret"},
    )
    assert basic_call.json()["active"] is True
    assert post_call.json()["active"] is True


async def test_every_advertised_revocation_auth_method_authenticates(server):
    methods = (await discovery(server))["revocation_endpoint_auth_methods_supported"]
    calls = {
        "client_secret_basic": ({"token": "x"}, basic("m2m", "secret")),
        "client_secret_post": ({"token": "x", "client_id": "m2m", "client_secret": "secret"}, {}),
        "private_key_jwt": (
            {
                "token": "x",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": client_assertion(test_data.RSA_CLIENT_KEY, "RS256", assertion_claims(server)),
            },
            {},
        ),
    }
    for method in methods:
        data, headers = calls[method]
        response = await server.client.post("/connect/revocation", data=data, headers=headers)
        assert response.status_code == 200, method


async def test_signing_algorithms_advertised_are_those_of_the_signing_keys():
    options = replace(
        IdentityServerOptions(), key_management=KeyManagementOptions(signing_algorithms=("ES256", "PS256"))
    )
    async with running(await quick_builder(options=options)) as srv:
        document = await discovery(srv)
        assert document["id_token_signing_alg_values_supported"] == ["ES256", "PS256"]
        keys = (await srv.client.get(JWKS)).json()["keys"]
        assert sorted(k["alg"] for k in keys) == ["ES256", "PS256"]


async def test_scopes_supported_lists_only_enabled_scopes_shown_in_discovery():
    config = test_data.test_configuration()
    config.api_scopes[0].show_in_discovery_document = False  # api1
    config.api_scopes[1].enabled = False  # api2
    async with running(await quick_builder(config)) as srv:
        scopes = (await discovery(srv))["scopes_supported"]
        assert "api1" not in scopes
        assert "api2" not in scopes
        assert {"openid", "isolated.scope"} <= set(scopes)


async def test_custom_entries_are_added_with_base_url_expansion_but_cannot_replace_standard_ones():
    custom = {"tos_uri": "~/terms", "issuer": "https://evil.example", "x_flag": "on"}
    options = replace(IdentityServerOptions(), discovery=DiscoveryOptions(custom_entries=custom))
    async with running(await quick_builder(options=options)) as srv:
        document = await discovery(srv)
        assert document["tos_uri"] == "https://idp.example/terms"
        assert document["x_flag"] == "on"
        assert document["issuer"] == "https://idp.example"


# -- JWKS -------------------------------------------------------------------------------------------------


async def test_jwks_publishes_public_signature_keys_only(server):
    response = await server.client.get(JWKS)
    keys = response.json()["keys"]
    assert keys
    assert len({k["kid"] for k in keys}) == len(keys)
    for key in keys:
        assert not PRIVATE_MEMBERS & set(key)
        assert key["use"] == "sig"
        assert key["kty"] in ("RSA", "EC")
        assert key["alg"] in (await discovery(server))["id_token_signing_alg_values_supported"]


async def test_jwks_uri_of_discovery_serves_the_key_that_signs_tokens(server):
    document = await discovery(server)
    keys = (await server.client.get(urlsplit(document["jwks_uri"]).path)).json()["keys"]
    token = (await server.token({"grant_type": "client_credentials"}, headers=basic("m2m", "secret"))).json()
    assert jwt_parts(token["access_token"])[0]["kid"] in {k["kid"] for k in keys}
