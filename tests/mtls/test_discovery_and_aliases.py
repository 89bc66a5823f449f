"""The mTLS endpoint aliases and discovery metadata (RFC 8705 §3.3, §5; IdentityServer's path, domain and
sub-domain modes) and the configuration that turns them on."""

from __future__ import annotations

import pytest

from identityserver.configuration.errors import ConfigError
from tests.mtls.support import DN_CLIENT, PROXY, confirmation, mtls_server, mtls_toml
from tests.support.data import test_configuration as configuration

CC = {"grant_type": "client_credentials", "scope": "api1", "client_id": "mtls.dn"}


async def test_discovery_advertises_path_aliases_bound_tokens_and_the_methods():
    async with mtls_server() as proxy:
        doc = (await proxy.server.client.get("/.well-known/openid-configuration")).json()
    base = proxy.server.issuer
    assert doc["tls_client_certificate_bound_access_tokens"] is True
    assert {"tls_client_auth", "self_signed_tls_client_auth"} <= set(doc["token_endpoint_auth_methods_supported"])
    aliases = doc["mtls_endpoint_aliases"]
    assert aliases["token_endpoint"] == f"{base}/connect/mtls/token"
    assert aliases["revocation_endpoint"] == f"{base}/connect/mtls/revocation"
    assert aliases["introspection_endpoint"] == f"{base}/connect/mtls/introspect"
    assert doc["token_endpoint"] == f"{base}/connect/token"


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("mtls.idp.example", "https://mtls.idp.example/connect/token"),
        ("mtls", "https://mtls.idp.example/connect/token"),
    ],
)
async def test_discovery_advertises_domain_and_sub_domain_aliases(domain, expected):
    async with mtls_server(f'domain_name = "{domain}"') as proxy:
        doc = (await proxy.server.client.get("/.well-known/openid-configuration")).json()
    assert doc["mtls_endpoint_aliases"]["token_endpoint"] == expected


async def test_the_path_alias_serves_the_endpoint_and_needs_a_certificate():
    async with mtls_server() as proxy:
        aliased = await proxy.token(CC, DN_CLIENT, path="/connect/mtls/token")
        without = await proxy.token(CC, path="/connect/mtls/token")
        unknown = await proxy.token(CC, DN_CLIENT, path="/connect/mtls/authorize")
    assert aliased.status_code == 200, aliased.text
    assert confirmation(aliased.json()["access_token"]) is not None
    assert without.status_code == 400
    assert without.json()["error"] == "invalid_client"
    assert without.headers["cache-control"] == "no-store"
    assert unknown.status_code == 404


async def test_the_domain_alias_needs_a_certificate_on_the_mtls_host_only():
    async with mtls_server('domain_name = "mtls.idp.example"') as proxy:
        client = proxy.server.client
        on_alias = await client.post("/connect/token", data=CC, headers={"Host": "mtls.idp.example"})
        with_cert = await client.post(
            "/connect/token", data=CC, headers={"Host": "mtls.idp.example", "Client-Cert": DN_CLIENT.client_cert_header}
        )
        on_issuer = await client.post(
            "/connect/token", data={**CC, "client_id": "shared.secret", "client_secret": "secret"}
        )
    assert on_alias.status_code == 400 and "client certificate" in on_alias.json()["error_description"]
    assert with_cert.status_code == 200, with_cert.text
    assert on_issuer.status_code == 200, on_issuer.text


def test_certificate_secrets_load_from_the_configuration_file():
    config = configuration(mtls_toml())
    client = next(c for c in config.clients if c.client_id == "mtls.dn")
    assert client.client_secrets[0].type == "X509Name"
    assert client.client_secrets[0].value == "CN=mtls.dn, O=Example"
    assert config.options.mutual_tls.enabled and config.options.mutual_tls.trusted_proxies == (PROXY,)
    bound = next(c for c in config.clients if c.client_id == "public.bound")
    assert bound.tls_client_certificate_bound_access_tokens is True


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[[clients]]\nclient_id = "x"\nclient_secrets = [{ type = "X509Thumbprint", value = "zz" }]\n',
            "X509Thumbprint",
        ),
        (
            '[[clients]]\nclient_id = "x"\nclient_secrets = [{ type = "X509CertificateBase64", value = "AAAA" }]\n',
            "DER",
        ),
        ('[[clients]]\nclient_id = "x"\nclient_secrets = [{ type = "X509Other", value = "a" }]\n', "unsupported"),
        (
            '[[clients]]\nclient_id = "x"\ntoken_endpoint_auth_method = "tls_client_auth"\nclient_secrets = ["s"]\n'
            'allowed_grant_types = ["client_credentials"]\n',
            "X509Name",
        ),
        ('[options.mutual_tls]\ntrusted_proxies = ["proxy.example"]\n', "trusted_proxies"),
        ('[options.mutual_tls]\ndomain_name = "https://mtls.example"\n', "domain_name"),
        ('[options.mutual_tls]\nclient_certificate_header = "Client Cert"\n', "client_certificate_header"),
    ],
)
def test_bad_mutual_tls_configuration_is_refused_with_its_field(toml, message):
    with pytest.raises(ConfigError, match=message):
        configuration(toml)
