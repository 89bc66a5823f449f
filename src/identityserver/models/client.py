"""The ``Client`` model with IdentityServer 6.3's properties and defaults (Duende ``Models/Client.cs``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, IntFlag
from typing import Any

from identityserver.constants import SecretTypes

SERVER_SETTING = "identityserver_setting"
"""Metadata key of the ``Client`` fields that are not IdentityServer columns (see :func:`server_setting`)."""


def server_setting(default: Any = None, *, default_factory: Any = None) -> Any:
    """A client field that IdentityServer's schema has no column for (PAR, CIBA ping, mTLS, JARM, policies...).
    SQL stores keep each one as a ``ClientProperties`` row ``identityserver:<field name>`` when it differs from its
    default, so new settings need no migration. Values must be JSON-able (str, int, bool, lists, dicts, IntEnum)."""
    if default_factory is not None:
        return field(default_factory=default_factory, metadata={SERVER_SETTING: True})
    return field(default=default, metadata={SERVER_SETTING: True})


class TokenUsage(IntEnum):
    RE_USE = 0
    ONE_TIME_ONLY = 1


class TokenExpiration(IntEnum):
    SLIDING = 0
    ABSOLUTE = 1


class AccessTokenType(IntEnum):
    JWT = 0
    REFERENCE = 1


class DPoPTokenExpirationValidationMode(IntFlag):
    """How DPoP proof freshness is checked (Duende flags enum; 6.3)."""

    CUSTOM = 0
    IAT = 1
    NONCE = 2


@dataclass(slots=True)
class Secret:
    """A client or API secret. Shared secrets hold the base64 SHA-256 of the plain value."""

    value: str
    type: str = SecretTypes.SHARED_SECRET
    description: str | None = None
    expiration: datetime | None = None

    def is_expired(self, now: datetime) -> bool:
        return self.expiration is not None and self.expiration < now


@dataclass(slots=True, frozen=True)
class ClientClaim:
    type: str
    value: str
    value_type: str = "string"


@dataclass(slots=True)
class Client:
    """An OAuth client / OIDC relying party. Field names are Duende's in snake_case, defaults are 6.3's."""

    client_id: str
    """Unique identifier (at most 200 characters)."""
    enabled: bool = True
    """A disabled client is refused everywhere."""
    protocol_type: str = "oidc"
    """Always ``oidc``."""
    client_secrets: list[Secret] = field(default_factory=list)
    """Plain strings (hashed on load) or ``{ value, type, expiration, description }``; type ``JWK`` holds a
    ``private_key_jwt`` client's public key."""
    require_client_secret: bool = True
    """``false`` makes a public client (native app, SPA) that authenticates with ``client_id`` only."""
    client_name: str | None = None
    """Shown on the login and consent pages."""
    description: str | None = None
    """Free text."""
    client_uri: str | None = None
    """The client's home page (linked on the consent page when https)."""
    logo_uri: str | None = None
    """Logo URL."""
    require_consent: bool = False
    """Show the consent page."""
    allow_remember_consent: bool = True
    """Offer "remember my decision" on the consent page."""
    allowed_grant_types: list[str] = field(default_factory=list)
    """``authorization_code``, ``client_credentials``, ``password``, ``implicit``, ``hybrid`` or extension grants;
    ``refresh_token`` is implied by ``allow_offline_access``."""
    require_pkce: bool = True
    """Require PKCE on the code flow (RFC 7636; RFC 9700 §2.1.1)."""
    allow_plain_text_pkce: bool = False
    """Accept ``code_challenge_method=plain``."""
    require_request_object: bool = False
    """Require a signed request object (RFC 9101)."""
    allow_access_tokens_via_browser: bool = False
    """Allow ``token`` response types (implicit and hybrid access tokens)."""
    require_dpop: bool = False
    """Refuse token requests without a DPoP proof (6.3)."""
    dpop_validation_mode: DPoPTokenExpirationValidationMode = DPoPTokenExpirationValidationMode.IAT
    """DPoP freshness flags ``"iat"``, ``"nonce"`` (6.3); no flag still checks ``iat``."""
    dpop_clock_skew: int = 300
    """Seconds tolerated around a DPoP proof's ``iat`` (6.3)."""
    redirect_uris: list[str] = field(default_factory=list)
    """Exact, case-sensitive redirect URIs."""
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    """Exact URIs allowed after end session."""
    front_channel_logout_uri: str | None = None
    """Loaded in an iframe on the logged-out page."""
    front_channel_logout_session_required: bool = True
    """Add ``iss`` and ``sid`` to the front-channel URI."""
    back_channel_logout_uri: str | None = None
    """Receives ``logout_token`` POSTs."""
    back_channel_logout_session_required: bool = True
    """Logout tokens must carry ``sid``."""
    allow_offline_access: bool = False
    """Allow ``offline_access`` (refresh tokens)."""
    allowed_scopes: list[str] = field(default_factory=list)
    """Scopes the client may request."""
    always_include_user_claims_in_id_token: bool = False
    """Put user claims in the ID token even when an access token is issued."""
    identity_token_lifetime: int = 300
    """ID token lifetime."""
    allowed_identity_token_signing_algorithms: list[str] = field(default_factory=list)
    """Algorithms for this client's ID tokens (default: the first signing algorithm)."""
    access_token_lifetime: int = 3600
    """Access token lifetime."""
    authorization_code_lifetime: int = 300
    """Authorization code lifetime."""
    absolute_refresh_token_lifetime: int = 2592000
    """Maximum refresh token lifetime from first issuance; 0 = no limit (sliding only)."""
    sliding_refresh_token_lifetime: int = 1296000
    """Sliding refresh token lifetime."""
    consent_lifetime: int | None = None
    """How long remembered consent lasts; unset = until revoked."""
    refresh_token_usage: TokenUsage = TokenUsage.ONE_TIME_ONLY
    """``one_time_only`` (rotation) or ``reuse``."""
    update_access_token_claims_on_refresh: bool = False
    """Recompute access token claims on refresh instead of re-issuing the stored ones."""
    refresh_token_expiration: TokenExpiration = TokenExpiration.ABSOLUTE
    """``absolute`` or ``sliding``."""
    access_token_type: AccessTokenType = AccessTokenType.JWT
    """``jwt`` or ``reference``."""
    enable_local_login: bool = True
    """Allow the local login page for this client."""
    identity_provider_restrictions: list[str] = field(default_factory=list)
    """Identity providers the user must have signed in with (empty: any)."""
    include_jwt_id: bool = True
    """IdentityServer's switch for ``jti``; RFC 9068 §2.2 requires it, so JWT access tokens always carry one."""
    claims: list[ClientClaim] = field(default_factory=list)
    """Claims added to access tokens, prefixed with ``client_claims_prefix``."""
    always_send_client_claims: bool = False
    """Add client claims to user tokens too (always for client-credentials tokens)."""
    client_claims_prefix: str | None = "client_"
    """Prefix of client claims."""
    pair_wise_subject_salt: str | None = None
    """Stored for compatibility; pairwise subjects are not implemented (as in IdentityServer 6.3)."""
    user_sso_lifetime: int | None = None
    """Maximum age of the user's authentication for this client."""
    user_code_type: str | None = None
    """User codes of the device flow: ``numeric`` or ``base20``; unset: ``[options.device_flow]
    default_user_code_type``."""
    device_code_lifetime: int = 300
    """Seconds a device code stays valid (RFC 8628 §3.2 ``expires_in``)."""
    ciba_lifetime: int | None = None
    """Longest lifetime of this client's CIBA requests; unset = ``[options.ciba] default_lifetime``."""
    polling_interval: int | None = None
    """Minimum seconds between this client's CIBA token polls; unset = ``[options.ciba]
    default_polling_interval``."""
    coordinate_lifetime_with_user_session: bool | None = None
    """Tie refresh tokens and token validation to the server-side session; unset = the global option."""
    allowed_cors_origins: list[str] = field(default_factory=list)
    """Origins (``scheme://host[:port]``) allowed to call the token, userinfo, revocation and discovery endpoints from
    browsers."""
    initiate_login_uri: str | None = None
    """Third-party initiated login URI (OIDC Core §4; 6.3)."""
    properties: dict[str, str] = field(default_factory=dict)
    """Free key/value pairs."""
    request_uris: list[str] = server_setting(default_factory=list)
    """The ``request_uri`` values the server may fetch request objects from (OIDC Registration §2
    ``request_uris``; RFC 9101 §5.2), exact match; used only with ``[options.endpoints] enable_jwt_request_uri``."""
    require_pushed_authorization: bool = server_setting(False)
    """Accept authorize requests only through a pushed authorization request (RFC 9126 §6:
    ``require_pushed_authorization_requests``); IdentityServer 7's ``RequirePushedAuthorization``."""
    backchannel_token_delivery_mode: str = server_setting("poll")
    """CIBA token delivery (CIBA Core §5): ``poll``, or ``ping`` to be notified at
    ``backchannel_client_notification_endpoint`` when the user has decided."""
    backchannel_client_notification_endpoint: str | None = server_setting(None)
    """Where ping notifications go (CIBA Core §10.2): https, or http to a loopback address for clients of the
    configuration file."""
    backchannel_user_code_parameter: bool = server_setting(False)
    """Require a ``user_code`` in CIBA requests (CIBA Core §4 ``backchannel_user_code_parameter``)."""
    token_exchange: dict[str, bool | int | str | list[str]] = server_setting(default_factory=dict)
    """Token exchange policy (RFC 8693; ``[clients.token_exchange]``): ``audiences``, ``scopes``, ``delegation``,
    ``impersonation``, ``max_delegation_depth``, ``subject_token_issuers``; see docs/token-exchange.md."""
    tls_client_certificate_bound_access_tokens: bool = server_setting(False)
    """Bind this client's access tokens to its client certificate and refuse token requests without one (RFC 8705
    §3.4); clients that authenticate with ``tls_client_auth`` or ``self_signed_tls_client_auth`` always get
    certificate-bound tokens."""
    token_endpoint_auth_method: str | None = server_setting(None)
    """Restricts the client to one of ``client_secret_basic``, ``client_secret_post``, ``private_key_jwt``,
    ``none`` (RFC 7591 §2); not an IdentityServer property."""
    authorization_signed_response_alg: str | None = server_setting(None)
    """Algorithm of JWT-secured authorization responses (JARM §3, ``response_mode=jwt``); unset: the server's
    default signing algorithm (a FAPI 2.0 client's: PS256, ES256 or EdDSA). See docs/fapi.md."""
    security_profile: str | None = server_setting(None)
    """``"fapi2"`` (FAPI 2.0 Security Profile) or ``"fapi2_message_signing"`` (plus signed requests and
    responses); unset: ``[options] security_profile``. See docs/fapi.md."""
    require_mfa: bool = server_setting(False)
    """Users signing in to this client need a second factor (TOTP or a passkey), as if every request carried
    ``acr_values`` with ``[options.authentication] mfa_acr_value``; see docs/sign-in.md."""
