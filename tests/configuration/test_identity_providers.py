"""``[[identity_providers]]`` in the configuration file: IdentityServer's ``OidcProvider`` properties under their
snake_case names, checked at load with the entry and field named; ``[options.dynamic_providers]``."""

from __future__ import annotations

import tomllib

import pytest

from identityserver.configuration.errors import ConfigError
from identityserver.configuration.loader import parse_configuration
from identityserver.models.identity_providers import oidc_provider

ENTRY = """
[[identity_providers]]
scheme = "corp"
display_name = "Corporate sign-in"
enabled = true
type = "oidc"
authority = "https://idp.example/"
client_id = "identityserver"
client_secret = "s3cret"
response_type = "code"
scope = "openid profile email"
get_claims_from_user_info_endpoint = false
use_pkce = true
"""


def load(text: str) -> list:  # type: ignore[type-arg]
    return parse_configuration(tomllib.loads(text), "f.toml").identity_providers


def test_an_entry_becomes_identityservers_properties() -> None:
    (provider,) = load(ENTRY)
    assert provider.scheme == "corp" and provider.display_name == "Corporate sign-in" and provider.enabled
    assert provider.properties == {
        "Authority": "https://idp.example/",
        "ClientId": "identityserver",
        "ClientSecret": "s3cret",
        "ResponseType": "code",
        "Scope": "openid profile email",
        "GetClaimsFromUserInfoEndpoint": "False",
        "UsePkce": "True",
    }
    oidc = oidc_provider(provider)
    assert oidc.authority == "https://idp.example" and oidc.get_claims_from_user_info_endpoint is False


def test_identityservers_defaults_apply() -> None:
    (provider,) = load('[[identity_providers]]\nscheme = "x"\nauthority = "https://a.example"\nclient_id = "c"\n')
    oidc = oidc_provider(provider)
    assert (oidc.response_type, oidc.scope, oidc.use_pkce, oidc.get_claims_from_user_info_endpoint) == (
        "id_token",
        "openid",
        True,
        True,
    )
    assert oidc.display_name == "x" and oidc.enabled


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (("use_pkce = true", "use_pkce = 1"), "use_pkce", "expected a boolean"),
        (("scope =", "scopes ="), "scopes", "unknown field"),
        (('authority = "https://idp.example/"', 'authority = "http://idp.example"'), "authority", "https"),
        (('authority = "https://idp.example/"', 'authority = "https://u:p@idp.example"'), "authority", "without"),
        (('client_id = "identityserver"', 'client_id = ""'), "client_id", "required"),
        (('response_type = "code"', 'response_type = "code token"'), "response_type", "not one of"),
        (('scope = "openid profile email"', 'scope = "profile"'), "scope", "openid"),
        (('scheme = "corp"', 'scheme = "a b"'), "scheme", "letters"),
        (('type = "oidc"', 'type = "saml2p"'), "type", "not supported"),
    ],
)
def test_mistakes_stop_loading_naming_the_entry_and_field(change: tuple[str, str], field: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(ENTRY.replace(*change))
    text = str(raised.value)
    assert text.startswith("f.toml: identity_providers[0]") and f'field "{field}"' in text and message in text


def test_http_to_a_loopback_authority_is_allowed_and_schemes_are_unique() -> None:
    loopback = ENTRY.replace("https://idp.example/", "http://127.0.0.1:5001")
    assert load(loopback)[0].properties["Authority"] == "http://127.0.0.1:5001"
    assert load(ENTRY.replace("https://idp.example/", "http://idp.example.localhost:5001"))
    with pytest.raises(ConfigError, match="duplicate scheme"):
        load(ENTRY + ENTRY)
    with pytest.raises(ConfigError, match="array of tables"):
        parse_configuration({"identity_providers": {"scheme": "x"}}, "f.toml")


def test_dynamic_provider_options() -> None:
    options = parse_configuration(tomllib.loads('[options.dynamic_providers]\npath_prefix = "/upstream"\n')).options
    assert options.dynamic_providers.path_prefix == "/upstream"
    assert options.caching.identity_provider_cache_duration == 3600
    with pytest.raises(ConfigError, match="path_prefix"):
        parse_configuration(tomllib.loads('[options.dynamic_providers]\npath_prefix = "no-slash"\n'))
