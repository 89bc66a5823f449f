"""Configuration of security profiles and signed responses: bad values stop start-up with the field named, and
``[options] security_profile`` applies the profile to every client."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from identityserver.configuration.errors import ConfigError
from identityserver.configuration.wiring import ConfigurationError
from identityserver.models.client import Client, TokenUsage
from identityserver.models.security_profile import apply_security_profile
from tests.support.browser import Browser, code_request
from tests.support.client_auth import configuration
from tests.support.data import test_configuration as configuration_with
from tests.support.server import basic, make_builder, running

KEYS = '[options.key_management]\nsigning_algorithms = ["RS256", "ES256"]\n'


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[options]\nsecurity_profile = "fapi3"\n', "security_profile"),
        (
            '[options]\nsecurity_profile = "fapi2"\n[options.key_management]\nsigning_algorithms = ["RS256"]\n',
            "signing_algorithms",
        ),
        (
            KEYS + '[options]\nsecurity_profile = "fapi2"\n[options.pushed_authorization]\nlifetime = 900\n',
            "lifetime",
        ),
        ('[[clients]]\nclient_id = "c"\nsecurity_profile = "fapi"\n', "security_profile"),
        (
            '[[clients]]\nclient_id = "c"\nauthorization_signed_response_alg = "HS256"\n',
            "authorization_signed_response_alg",
        ),
        (
            '[[clients]]\nclient_id = "c"\nsecurity_profile = "fapi2"\nauthorization_signed_response_alg = "RS256"\n',
            "authorization_signed_response_alg",
        ),
    ],
)
def test_bad_values_are_refused_naming_the_field(text, where):
    with pytest.raises(ConfigError, match=where):
        configuration(text)


def test_a_response_algorithm_the_server_has_no_key_for_stops_the_build():
    config = configuration_with('[[clients]]\nclient_id = "c"\nauthorization_signed_response_alg = "ES384"\n')
    with pytest.raises(ConfigurationError, match="authorization_signed_response_alg"):
        make_builder(config).build()


def test_a_fapi_client_on_a_server_without_ps256_or_es256_stops_the_build():
    config = configuration_with('[[clients]]\nclient_id = "c"\nsecurity_profile = "fapi2"\n')
    with pytest.raises(ConfigurationError, match="allowed_identity_token_signing_algorithms"):
        make_builder(config).build()


def test_the_profile_narrows_a_copy_of_the_client():
    client = Client("c", allowed_grant_types=["hybrid", "password"], authorization_code_lifetime=600)
    narrowed = apply_security_profile(client, "fapi2")
    assert narrowed is not client and client.security_profile is None and client.require_dpop is False
    assert narrowed.security_profile == "fapi2" and narrowed.allowed_grant_types == []
    assert narrowed.authorization_code_lifetime == 60 and narrowed.refresh_token_usage == TokenUsage.RE_USE
    assert narrowed.require_dpop and narrowed.require_pushed_authorization and not narrowed.allow_plain_text_pkce
    assert narrowed.token_endpoint_auth_method == "private_key_jwt"
    assert narrowed.allowed_identity_token_signing_algorithms == ["PS256", "ES256", "EdDSA"]
    assert apply_security_profile(client) is client  # no profile: the client itself
    signing = apply_security_profile(client, "fapi2_message_signing")
    assert signing.require_request_object


async def test_the_global_default_applies_the_profile_to_every_client():
    config = configuration_with(KEYS + '[options]\nsecurity_profile = "fapi2"\n')
    async with running(make_builder(config)) as server:
        token = await server.token(
            {"grant_type": "client_credentials", "scope": "api1"}, headers=basic("m2m", "secret")
        )
        assert token.status_code == 401 and token.json()["error"] == "invalid_client"
        params, _ = code_request()
        page = await Browser(server.client).get("/connect/authorize?" + urlencode(params))
        assert page.status_code == 400 and page.url.path == "/home/error"
        document = (await server.client.get("/.well-known/openid-configuration")).json()
        assert document["authorization_response_iss_parameter_supported"] is True


def test_the_settings_are_kept_by_sql_stores_without_a_migration():
    from datetime import UTC, datetime

    from identityserver.storage.sqlalchemy.configuration_mappers import client_from_rows, client_to_rows

    client = Client("c", security_profile="fapi2_message_signing", authorization_signed_response_alg="PS256")
    back = client_from_rows(client_to_rows(client, datetime(2026, 1, 1, tzinfo=UTC)))
    assert back.security_profile == "fapi2_message_signing" and back.authorization_signed_response_alg == "PS256"
    assert back.properties == {}
