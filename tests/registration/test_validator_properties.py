"""Property-based: for any JSON metadata, under any policy, the registration validator returns a client whose grants
and scopes stay inside the policy, or raises ``RegistrationError`` (never another exception)."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identityserver.models.resources import ApiScope, IdentityResource
from identityserver.options import DynamicClientRegistrationOptions
from identityserver.registration.policy import DEFAULT_GRANTS, RegistrationPolicy
from identityserver.registration.validator import DynamicClientRegistrationValidator, RegistrationError
from identityserver.stores.in_memory.resources import InMemoryResourceStore

FIELDS = [
    "grant_types", "redirect_uris", "scope", "token_endpoint_auth_method", "jwks", "logo_uri", "client_uri",
    "policy_uri", "tos_uri", "initiate_login_uri", "backchannel_logout_uri", "software_statement", "response_types",
    "default_max_age", "access_token_lifetime", "client_name",
]  # fmt: skip
GRANTS = ["authorization_code", "refresh_token", "client_credentials", "password", "implicit",
          "urn:ietf:params:oauth:grant-type:token-exchange"]  # fmt: skip
SCOPES = ["openid", "profile", "api1", "api2", "offline_access", "admin"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)
field_values = st.one_of(
    json_values,
    st.lists(st.sampled_from(GRANTS), max_size=4),
    st.lists(st.sampled_from(["https://app.example/cb", "http://127.0.0.1/cb", "https://10.0.0.1/x"]), max_size=3),
    st.lists(st.sampled_from(SCOPES), max_size=4).map(" ".join),
    st.sampled_from(
        ["https://app.example/x", "https://127.0.0.1/x", "https://localhost/x", "none", "client_secret_post"]
    ),
)
BASES = [
    {},
    {"redirect_uris": ["https://app.example/cb"], "scope": "openid"},
    {"grant_types": ["client_credentials"], "scope": "api1"},
    {"grant_types": ["password"], "scope": "api1 api2"},
]
metadata = st.builds(
    lambda base, changes: {**base, **changes},
    st.sampled_from(BASES),
    st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=3),
)
policies = st.builds(
    RegistrationPolicy,
    st.just("p"),
    st.sets(st.sampled_from(GRANTS[2:4] + GRANTS[5:])).map(lambda g: DEFAULT_GRANTS | frozenset(g)),
    st.sets(st.sampled_from(["api1"])).map(frozenset),
)
RESOURCES = InMemoryResourceStore(
    [IdentityResource("openid", user_claims=["sub"]), IdentityResource("profile", user_claims=["name"])],
    [ApiScope("api1"), ApiScope("api2")],
    [],
)
VALIDATOR = DynamicClientRegistrationValidator(RESOURCES, DynamicClientRegistrationOptions(enabled=True))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(metadata, policies)
def test_any_metadata_is_refused_or_stays_inside_the_policy(body, policy):
    try:
        validated = asyncio.run(VALIDATOR.validate(body, policy))
    except RegistrationError as exc:
        assert exc.error in ("invalid_client_metadata", "invalid_redirect_uri", "invalid_software_statement",
                             "unapproved_software_statement")  # fmt: skip
        return
    client = validated.client
    assert set(client.allowed_grant_types) <= policy.grant_types
    assert set(client.allowed_scopes) <= {"openid", "profile"} | policy.scopes
    assert client.require_pkce and client.require_consent
    for uri in (client.logo_uri, client.client_uri, client.initiate_login_uri, client.back_channel_logout_uri):
        assert uri is None or ("127.0.0.1" not in uri and "localhost" not in uri and "10.0.0.1" not in uri)
