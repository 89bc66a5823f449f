"""Client configuration checks run at start-up (Duende ``Client.ValidateGrantTypes`` and
``DefaultClientConfigurationValidator``). Returns ``(field, problem)`` or ``None``."""

from __future__ import annotations

from identityserver._utils.origins import web_origin
from identityserver._utils.urls import is_absolute_uri
from identityserver.constants import (
    SUPPORTED_SIGNING_ALGORITHMS,
    GrantType,
    SecretTypes,
    TokenEndpointAuthMethods,
)
from identityserver.models.client import Client
from identityserver.models.security_profile import client_setting_problem
from identityserver.models.token_exchange import token_exchange_policy_problem
from identityserver.services.backchannel_ping import ciba_client_problem

FORBIDDEN_GRANT_COMBINATIONS = (
    (GrantType.IMPLICIT, GrantType.AUTHORIZATION_CODE),
    (GrantType.IMPLICIT, GrantType.HYBRID),
    (GrantType.AUTHORIZATION_CODE, GrantType.HYBRID),
)
INVALID_REDIRECT_URI_PREFIXES = (
    "javascript:",
    "file:",
    "data:",
    "mailto:",
    "ftp:",
    "blob:",
    "about:",
    "ssh:",
    "tel:",
    "view-source:",
    "ws:",
    "wss:",
)
AUTH_METHODS = (
    TokenEndpointAuthMethods.CLIENT_SECRET_BASIC,
    TokenEndpointAuthMethods.CLIENT_SECRET_POST,
    TokenEndpointAuthMethods.PRIVATE_KEY_JWT,
    TokenEndpointAuthMethods.NONE,
    TokenEndpointAuthMethods.TLS_CLIENT_AUTH,
    TokenEndpointAuthMethods.SELF_SIGNED_TLS_CLIENT_AUTH,
)
#: Secrets that authenticate a client by its certificate (RFC 8705 §2; IdentityServer's secret types).
CERTIFICATE_SECRETS = (SecretTypes.X509_NAME, SecretTypes.X509_THUMBPRINT, SecretTypes.X509_CERTIFICATE_BASE64)
#: Grants that authenticate at the token endpoint; a confidential client using them needs a secret.
TOKEN_ENDPOINT_GRANTS = (
    GrantType.AUTHORIZATION_CODE,
    GrantType.HYBRID,
    GrantType.CLIENT_CREDENTIALS,
    GrantType.PASSWORD,
    GrantType.DEVICE_CODE,
    GrantType.CIBA,
    GrantType.TOKEN_EXCHANGE,
)
LIFETIMES = (
    "identity_token_lifetime",
    "access_token_lifetime",
    "authorization_code_lifetime",
    "device_code_lifetime",
)


def validate_grant_types(grant_types: list[str]) -> str | None:
    if len(set(grant_types)) != len(grant_types):
        return "a grant type is listed twice"
    for grant in grant_types:
        if not grant or any(ch.isspace() for ch in grant):
            return f"grant type {grant!r} must be non-empty and contain no whitespace"
    for first, second in FORBIDDEN_GRANT_COMBINATIONS:
        if first in grant_types and second in grant_types:
            return f"grant types {first} and {second} cannot be combined"
    return None


def _redirect_uri_problem(uri: str) -> str | None:
    if uri.lower().startswith(INVALID_REDIRECT_URI_PREFIXES):
        return f"redirect URI {uri!r} uses a forbidden scheme"
    if not is_absolute_uri(uri) and not (":" in uri and not uri.startswith("/")):
        return f"redirect URI {uri!r} must be an absolute URI"
    if "#" in uri:
        return f"redirect URI {uri!r} must not contain a fragment (RFC 6749 §3.1.2)"
    return None


def validate_client(client: Client) -> tuple[str, str] | None:
    if len(client.client_id) > 200:
        return "client_id", "must be at most 200 characters"
    problem = validate_grant_types(client.allowed_grant_types)
    if problem:
        return "allowed_grant_types", problem
    ciba = ciba_client_problem(client)
    if ciba is not None:
        return ciba
    if GrantType.REFRESH_TOKEN in client.allowed_grant_types:
        return "allowed_grant_types", "refresh_token is implied by allow_offline_access; do not list it"
    for name in LIFETIMES:
        if getattr(client, name) <= 0:
            return name, "must be a positive number of seconds"
    if client.absolute_refresh_token_lifetime < 0 or client.sliding_refresh_token_lifetime <= 0:
        return (
            "sliding_refresh_token_lifetime",
            "refresh token lifetimes must be positive (absolute may be 0)",
        )
    if client.dpop_clock_skew < 0:
        return "dpop_clock_skew", "must not be negative"
    problem = token_exchange_policy_problem(client.token_exchange)
    if problem:
        return "token_exchange", problem
    for field_name in ("redirect_uris", "post_logout_redirect_uris"):
        for uri in getattr(client, field_name):
            problem = _redirect_uri_problem(uri)
            if problem:
                return field_name, problem
    for field_name in ("front_channel_logout_uri", "back_channel_logout_uri", "initiate_login_uri"):
        value = getattr(client, field_name)
        if value is not None and not is_absolute_uri(value):
            return field_name, "must be an absolute URI"
        if value is not None and field_name != "initiate_login_uri" and web_origin(value) is None:
            # the front-channel origin goes into the logged-out page's CSP (issue 16 item 4)
            return field_name, "must be an http(s) URI with a valid host name (IDNA) or IP address and port"
    for origin in client.allowed_cors_origins:
        if not is_absolute_uri(origin) or origin.rstrip("/").count("/") > 2 or origin.endswith("/"):
            return "allowed_cors_origins", f"{origin!r} must be an origin (scheme://host[:port])"
    method = client.token_endpoint_auth_method
    shared = any(s.type == SecretTypes.SHARED_SECRET for s in client.client_secrets)
    jwk = any(s.type == SecretTypes.JSON_WEB_KEY for s in client.client_secrets)
    x509_name = any(s.type == SecretTypes.X509_NAME for s in client.client_secrets)
    certificate = any(s.type in CERTIFICATE_SECRETS[1:] for s in client.client_secrets)
    if method is not None:
        if method not in AUTH_METHODS:
            return "token_endpoint_auth_method", f"expected one of {', '.join(AUTH_METHODS)}"
        if method == TokenEndpointAuthMethods.NONE and client.require_client_secret:
            return "token_endpoint_auth_method", "'none' requires require_client_secret = false"
        if method == TokenEndpointAuthMethods.PRIVATE_KEY_JWT and not jwk:
            return "client_secrets", "private_key_jwt needs a secret of type JWK"
        if method.startswith("client_secret") and not shared:
            return "client_secrets", f"{method} needs a shared secret"
        if method == TokenEndpointAuthMethods.TLS_CLIENT_AUTH and not x509_name:
            return "client_secrets", "tls_client_auth needs a secret of type X509Name"
        if method == TokenEndpointAuthMethods.SELF_SIGNED_TLS_CLIENT_AUTH and not (certificate or jwk):
            return "client_secrets", "self_signed_tls_client_auth needs an X509Thumbprint, X509CertificateBase64 or JWK"
    needs_secret = any(g in TOKEN_ENDPOINT_GRANTS for g in client.allowed_grant_types)
    if client.require_client_secret and needs_secret and not (shared or jwk or x509_name or certificate):
        return (
            "client_secrets",
            "a confidential client needs at least one secret (or require_client_secret = false)",
        )
    if not client.require_client_secret and GrantType.CLIENT_CREDENTIALS in client.allowed_grant_types:
        return "allowed_grant_types", "client_credentials needs a confidential client"
    return client_setting_problem(client, SUPPORTED_SIGNING_ALGORITHMS)
