"""The built-in demo configuration served by ``identityserver serve`` without ``--config``.

It is a TOML document parsed like any user file, so it doubles as an example."""

from __future__ import annotations

import tomllib

from identityserver.configuration.loader import Configuration, parse_configuration

DEMO_TOML = """
[options.events]
raise_success_events = true
raise_failure_events = true
raise_information_events = true
raise_error_events = true

[options.user_interaction]
create_account_url = "/account/create"

# A machine-to-machine client: client_credentials for api1.
[[clients]]
client_id = "m2m"
client_name = "Machine client"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

# An interactive web application: code flow with PKCE, refresh tokens, consent.
[[clients]]
client_id = "interactive"
client_name = "Interactive client"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["http://127.0.0.1:5002/signin-oidc", "http://localhost:5002/signin-oidc",
                 "https://oauth.pstmn.io/v1/callback"]
post_logout_redirect_uris = ["http://127.0.0.1:5002/signout-callback-oidc",
                             "http://localhost:5002/signout-callback-oidc"]
front_channel_logout_uri = "http://127.0.0.1:5002/signout-oidc"
allowed_scopes = ["openid", "profile", "email", "api1"]
allow_offline_access = true
require_consent = true
initiate_login_uri = "http://127.0.0.1:5002/login"

# A public client (native app or SPA): code flow with PKCE, no secret, DPoP-ready.
[[clients]]
client_id = "native"
client_name = "Native client"
require_client_secret = false
allowed_grant_types = ["authorization_code"]
redirect_uris = ["http://127.0.0.1:7890/callback", "com.example.native:/callback"]
post_logout_redirect_uris = ["http://127.0.0.1:7890/"]
allowed_scopes = ["openid", "profile", "email", "api1"]
allow_offline_access = true

[[api_scopes]]
name = "api1"
display_name = "API 1"

[[api_resources]]
name = "urn:api1"
display_name = "API 1"
scopes = ["api1"]
api_secrets = ["api1-secret"]

[[users]]
subject_id = "1"
username = "alice"
password = "alice"
[users.claims]
name = "Alice Smith"
given_name = "Alice"
family_name = "Smith"
email = "alice@example.com"
email_verified = true
website = "https://alice.example.com"

[[users]]
subject_id = "2"
username = "bob"
password = "bob"
[users.claims]
name = "Bob Smith"
given_name = "Bob"
family_name = "Smith"
email = "bob@example.com"
email_verified = true
website = "https://bob.example.com"
"""

DEMO_CREDENTIALS = (
    ("client", "m2m / secret (client_credentials, scope api1)"),
    ("client", "interactive / secret (authorization_code + PKCE, consent, refresh tokens)"),
    ("client", "native (public; authorization_code + PKCE)"),
    ("api", "urn:api1 / api1-secret (introspection)"),
    ("user", "alice / alice"),
    ("user", "bob / bob"),
)


def demo_configuration() -> Configuration:
    return parse_configuration(tomllib.loads(DEMO_TOML), "<demo configuration>")
