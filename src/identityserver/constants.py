"""Protocol names, route paths and error codes (Duende ``IdentityServerConstants`` / ``OidcConstants``)."""

from __future__ import annotations

from typing import Final


class ProtocolRoutePaths:
    """Route paths of the protocol endpoints, relative to the base URL (Duende ``ProtocolRoutePaths``)."""

    DISCOVERY: Final = "/.well-known/openid-configuration"
    DISCOVERY_WEB_KEYS: Final = "/.well-known/openid-configuration/jwks"
    AUTHORIZE: Final = "/connect/authorize"
    AUTHORIZE_CALLBACK: Final = "/connect/authorize/callback"
    TOKEN: Final = "/connect/token"
    USER_INFO: Final = "/connect/userinfo"
    INTROSPECTION: Final = "/connect/introspect"
    REVOCATION: Final = "/connect/revocation"
    END_SESSION: Final = "/connect/endsession"
    END_SESSION_CALLBACK: Final = "/connect/endsession/callback"
    CHECK_SESSION: Final = "/connect/checksession"
    DEVICE_AUTHORIZATION: Final = "/connect/deviceauthorization"
    BACKCHANNEL_AUTHENTICATION: Final = "/connect/ciba"
    REGISTRATION: Final = "/connect/register"
    PUSHED_AUTHORIZATION: Final = "/connect/par"


class UiPaths:
    """Default paths of the interactive pages (Duende ``UserInteractionOptions``)."""

    LOGIN: Final = "/account/login"
    LOGOUT: Final = "/account/logout"
    LOGGED_OUT: Final = "/account/logged-out"
    CREATE_ACCOUNT: Final = "/account/create"
    CONSENT: Final = "/consent"
    ERROR: Final = "/home/error"
    DEVICE: Final = "/device"
    CIBA: Final = "/ciba"
    GRANTS: Final = "/grants"
    PORTAL: Final = "/portal"


class GrantType:
    """OAuth 2.0 grant type identifiers (RFC 6749 §4, RFC 8628 §3.4, CIBA §10.1)."""

    AUTHORIZATION_CODE: Final = "authorization_code"
    CLIENT_CREDENTIALS: Final = "client_credentials"
    REFRESH_TOKEN: Final = "refresh_token"
    PASSWORD: Final = "password"
    IMPLICIT: Final = "implicit"
    HYBRID: Final = "hybrid"
    DEVICE_CODE: Final = "urn:ietf:params:oauth:grant-type:device_code"
    CIBA: Final = "urn:openid:params:grant-type:ciba"
    TOKEN_EXCHANGE: Final = "urn:ietf:params:oauth:grant-type:token-exchange"


class TokenTypeIdentifiers:
    """Token type identifiers of token exchange (RFC 8693 §3; Duende ``OidcConstants.TokenTypeIdentifiers``)."""

    ACCESS_TOKEN: Final = "urn:ietf:params:oauth:token-type:access_token"
    REFRESH_TOKEN: Final = "urn:ietf:params:oauth:token-type:refresh_token"
    ID_TOKEN: Final = "urn:ietf:params:oauth:token-type:id_token"
    JWT: Final = "urn:ietf:params:oauth:token-type:jwt"
    SAML1: Final = "urn:ietf:params:oauth:token-type:saml1"
    SAML2: Final = "urn:ietf:params:oauth:token-type:saml2"


class TokenTypes:
    """``token_type`` values of token responses (RFC 6750, RFC 9449 §5)."""

    BEARER: Final = "Bearer"
    DPOP: Final = "DPoP"


class PersistedGrantTypes:
    """``PersistedGrants.Type`` values (Duende ``IdentityServerConstants.PersistedGrantTypes``)."""

    AUTHORIZATION_CODE: Final = "authorization_code"
    REFERENCE_TOKEN: Final = "reference_token"
    REFRESH_TOKEN: Final = "refresh_token"
    USER_CONSENT: Final = "user_consent"
    BACKCHANNEL_AUTHENTICATION_REQUEST: Final = "ciba"
    # This server's own rows (not Duende's): markers that let deleted one-time refresh tokens be recognised
    USED_REFRESH_TOKEN: Final = "refresh_token_used"
    """Tombstone of a rotated-away one-time refresh token: its family, until the token would have expired."""
    REVOKED_REFRESH_TOKEN_FAMILY: Final = "refresh_family_revoked"
    """A revoked token family, for refreshes in flight."""
    PUSHED_AUTHORIZATION_REQUEST: Final = "pushed_authorization_request"
    """The parameters of a pushed authorization request (RFC 9126), keyed by its ``request_uri``."""


class SecretTypes:
    """``Secret.Type`` values (Duende ``IdentityServerConstants.SecretTypes``)."""

    SHARED_SECRET: Final = "SharedSecret"
    JSON_WEB_KEY: Final = "JWK"
    X509_THUMBPRINT: Final = "X509Thumbprint"
    X509_NAME: Final = "X509Name"
    X509_CERTIFICATE_BASE64: Final = "X509CertificateBase64"


class TokenEndpointAuthMethods:
    """``token_endpoint_auth_method`` values (RFC 7591 §2, OIDC Core §9)."""

    CLIENT_SECRET_BASIC: Final = "client_secret_basic"
    CLIENT_SECRET_POST: Final = "client_secret_post"
    PRIVATE_KEY_JWT: Final = "private_key_jwt"
    NONE: Final = "none"
    TLS_CLIENT_AUTH: Final = "tls_client_auth"
    """RFC 8705 §2.1: a CA-issued certificate with the registered subject DN or SAN."""
    SELF_SIGNED_TLS_CLIENT_AUTH: Final = "self_signed_tls_client_auth"
    """RFC 8705 §2.2: a registered (typically self-signed) certificate."""


CLIENT_ASSERTION_TYPE_JWT_BEARER: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class TokenErrors:
    """Token endpoint error codes (RFC 6749 §5.2, RFC 8707 §2, RFC 9449 §5, RFC 8628 §3.5)."""

    INVALID_REQUEST: Final = "invalid_request"
    INVALID_CLIENT: Final = "invalid_client"
    INVALID_GRANT: Final = "invalid_grant"
    UNAUTHORIZED_CLIENT: Final = "unauthorized_client"
    UNSUPPORTED_GRANT_TYPE: Final = "unsupported_grant_type"
    INVALID_SCOPE: Final = "invalid_scope"
    INVALID_TARGET: Final = "invalid_target"
    INVALID_DPOP_PROOF: Final = "invalid_dpop_proof"
    USE_DPOP_NONCE: Final = "use_dpop_nonce"
    AUTHORIZATION_PENDING: Final = "authorization_pending"
    SLOW_DOWN: Final = "slow_down"
    EXPIRED_TOKEN: Final = "expired_token"
    ACCESS_DENIED: Final = "access_denied"
    UNSUPPORTED_TOKEN_TYPE: Final = "unsupported_token_type"
    SERVER_ERROR: Final = "server_error"


class BackchannelAuthenticationErrors:
    """Backchannel authentication endpoint error codes (OpenID Connect CIBA Core 1.0 §13)."""

    INVALID_REQUEST: Final = "invalid_request"
    INVALID_SCOPE: Final = "invalid_scope"
    EXPIRED_LOGIN_HINT_TOKEN: Final = "expired_login_hint_token"
    UNKNOWN_USER_ID: Final = "unknown_user_id"
    UNAUTHORIZED_CLIENT: Final = "unauthorized_client"
    MISSING_USER_CODE: Final = "missing_user_code"
    INVALID_USER_CODE: Final = "invalid_user_code"
    INVALID_BINDING_MESSAGE: Final = "invalid_binding_message"
    INVALID_CLIENT: Final = "invalid_client"
    ACCESS_DENIED: Final = "access_denied"
    INVALID_TARGET: Final = "invalid_target"
    INVALID_REQUEST_OBJECT: Final = "invalid_request_object"


class AuthorizeErrors:
    """Authorization endpoint error codes (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6, RFC 9470 §3)."""

    INVALID_REQUEST: Final = "invalid_request"
    UNAUTHORIZED_CLIENT: Final = "unauthorized_client"
    ACCESS_DENIED: Final = "access_denied"
    UNSUPPORTED_RESPONSE_TYPE: Final = "unsupported_response_type"
    INVALID_SCOPE: Final = "invalid_scope"
    SERVER_ERROR: Final = "server_error"
    TEMPORARILY_UNAVAILABLE: Final = "temporarily_unavailable"
    INTERACTION_REQUIRED: Final = "interaction_required"
    LOGIN_REQUIRED: Final = "login_required"
    ACCOUNT_SELECTION_REQUIRED: Final = "account_selection_required"
    CONSENT_REQUIRED: Final = "consent_required"
    INVALID_REQUEST_URI: Final = "invalid_request_uri"
    INVALID_REQUEST_OBJECT: Final = "invalid_request_object"
    REQUEST_NOT_SUPPORTED: Final = "request_not_supported"
    REQUEST_URI_NOT_SUPPORTED: Final = "request_uri_not_supported"
    INVALID_TARGET: Final = "invalid_target"
    UNMET_AUTHENTICATION_REQUIREMENTS: Final = "unmet_authentication_requirements"


class ProtectedResourceErrors:
    """Resource server error codes (RFC 6750 §3.1, RFC 9449 §7.1)."""

    INVALID_TOKEN: Final = "invalid_token"
    INSUFFICIENT_SCOPE: Final = "insufficient_scope"
    INVALID_REQUEST: Final = "invalid_request"
    INVALID_DPOP_PROOF: Final = "invalid_dpop_proof"
    USE_DPOP_NONCE: Final = "use_dpop_nonce"


class StandardScopes:
    """Built-in scope names (OIDC Core §5.4, §11)."""

    OPENID: Final = "openid"
    PROFILE: Final = "profile"
    EMAIL: Final = "email"
    ADDRESS: Final = "address"
    PHONE: Final = "phone"
    OFFLINE_ACCESS: Final = "offline_access"


class JwtTypes:
    """JOSE ``typ`` header values (RFC 9068 §2.1, RFC 9449 §4.2, OIDC Back-Channel Logout §2.4)."""

    ACCESS_TOKEN: Final = "at+jwt"
    DPOP_PROOF: Final = "dpop+jwt"
    LOGOUT_TOKEN: Final = "logout+jwt"
    AUTHORIZATION_REQUEST: Final = "oauth-authz-req+jwt"


#: Asymmetric algorithms this server signs with (keys it manages).
SUPPORTED_SIGNING_ALGORITHMS: Final = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
)
#: Algorithms accepted on incoming JWTs signed with a client's asymmetric key (RFC 8725 §3.1).
SUPPORTED_CLIENT_ASSERTION_ALGORITHMS: Final = (*SUPPORTED_SIGNING_ALGORITHMS, "EdDSA")
