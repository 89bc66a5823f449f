"""``IdentityServerOptions`` and its groups (Duende ``Configuration/DependencyInjection/Options``).

Every field is the snake_case of IdentityServer's property with 6.3's default, unless its documentation says
otherwise; durations are seconds. Only what this server implements is here. In the TOML file each group is
``[options.<group>]``; docs/configuration.md is generated from these docstrings (a test keeps it in step).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from identityserver.operational_options import (
    CachingOptions,
    ClockOptions,
    DataProtectionOptions,
    KeyManagementOptions,
    TelemetryOptions,
)

__all__ = ["CachingOptions", "ClockOptions", "DataProtectionOptions", "KeyManagementOptions", "TelemetryOptions"]


@dataclass(frozen=True, slots=True)
class EndpointsOptions:
    """Switches for each protocol endpoint; a disabled endpoint is not routed and leaves discovery."""

    enable_authorize_endpoint: bool = True
    """``/connect/authorize`` and its callback."""
    enable_token_endpoint: bool = True
    """``/connect/token``."""
    enable_userinfo_endpoint: bool = True
    """``/connect/userinfo``."""
    enable_discovery_endpoint: bool = True
    """``/.well-known/openid-configuration`` and its JWKS."""
    enable_end_session_endpoint: bool = True
    """``/connect/endsession``."""
    enable_check_session_endpoint: bool = True
    """``/connect/checksession`` and ``session_state`` in authorization responses."""
    enable_token_revocation_endpoint: bool = True
    """``/connect/revocation``."""
    enable_introspection_endpoint: bool = True
    """``/connect/introspect``."""
    enable_device_authorization_endpoint: bool = True
    """``/connect/deviceauthorization`` (RFC 8628 §3.1; docs/device_flow.md)."""
    enable_backchannel_authentication_endpoint: bool = True
    """``/connect/ciba`` (OpenID Connect CIBA Core 1.0)."""
    enable_jwt_request_uri: bool = False
    """``request_uri`` by reference (RFC 9101 §5.2) from the client's ``request_uris``; PAR works regardless."""
    jwt_request_uri_allow_private_network: bool = False
    """Fetch ``request_uri`` over http and from private addresses too (development only). Not in IdentityServer."""
    enable_pushed_authorization_endpoint: bool = True
    """``/connect/par`` (RFC 9126)."""


@dataclass(frozen=True, slots=True)
class DiscoveryOptions:
    """The discovery document and JWKS responses."""

    response_cache_interval: int | None = None
    """``Cache-Control: max-age`` of discovery and JWKS responses; unset sends ``no-store``."""
    custom_entries: dict[str, str] = field(default_factory=dict)
    """Extra members of the discovery document; a value starting with ``~/`` is made absolute."""


@dataclass(frozen=True, slots=True)
class AuthenticationOptions:
    """The user's sign-in session."""

    cookie_lifetime: int = 36000
    """Lifetime of the sign-in session (10 hours)."""
    check_session_cookie_name: str = "idsrv.session"
    """Name of the cookie the check-session iframe reads (OIDC Session Management §3)."""
    coordinate_client_lifetimes_with_user_session: bool = False
    """Global default of ``Client.coordinate_lifetime_with_user_session`` (needs server-side sessions)."""
    mfa_acr_value: str = "mfa"
    """The ``acr_values`` value that asks for a second factor (TOTP or a passkey; docs/sign-in.md), listed in
    discovery's ``acr_values_supported``; a session with one carries it as ``acr`` (OIDC Core §2)."""


@dataclass(frozen=True, slots=True)
class EventsOptions:
    """Which events reach the event sink (all off by default, as in IdentityServer; the demo turns them on)."""

    raise_success_events: bool = False
    """Token issued, client authenticated, user signed in, ..."""
    raise_failure_events: bool = False
    """Token request failed, client authentication failed, wrong password, ..."""
    raise_information_events: bool = False
    """Consent granted or denied, grants revoked."""
    raise_error_events: bool = False
    """Unhandled errors and invalid configuration."""


@dataclass(frozen=True, slots=True)
class InputLengthRestrictions:
    """Maximum lengths of request parameters (characters); longer values are rejected with the spec's error."""

    client_id: int = 100
    """``client_id``."""
    client_secret: int = 100
    """``client_secret`` and the secret part of Basic credentials."""
    scope: int = 300
    """``scope``."""
    redirect_uri: int = 400
    """``redirect_uri`` and ``post_logout_redirect_uri``."""
    nonce: int = 300
    """``nonce``."""
    ui_locale: int = 100
    """``ui_locales``."""
    login_hint: int = 100
    """``login_hint``."""
    acr_values: int = 300
    """``acr_values``."""
    grant_type: int = 100
    """``grant_type``."""
    user_name: int = 100
    """``username`` of the password grant."""
    password: int = 100
    """``password`` of the password grant."""
    state: int = 2000
    """``state`` (not limited by IdentityServer; bounded here so that it is never echoed truncated)."""
    authorization_code: int = 100
    """``code`` at the token endpoint."""
    refresh_token: int = 100
    """``refresh_token``."""
    token_handle: int = 100
    """A reference access token."""
    jwt: int = 51200
    """Any JWT: client assertions, request objects, access tokens presented to userinfo/introspection."""
    code_challenge_min_length: int = 43
    """``code_challenge`` (RFC 7636 §4.2)."""
    code_challenge_max_length: int = 128
    """``code_challenge`` (RFC 7636 §4.2)."""
    code_verifier_min_length: int = 43
    """``code_verifier`` (RFC 7636 §4.1)."""
    code_verifier_max_length: int = 128
    """``code_verifier`` (RFC 7636 §4.1)."""
    resource_indicator_max_length: int = 512
    """``resource`` (RFC 8707)."""
    id_token_hint: int = 4000
    """``id_token_hint``."""
    dpop_key_thumbprint: int = 100
    """``dpop_jkt`` on the authorize request."""
    dpop_proof_token: int = 4000
    """A ``DPoP`` proof header."""
    device_code: int = 100
    """``device_code`` of the device grant (RFC 8628 §3.4)."""
    user_code: int = 100
    """``user_code`` (CIBA request, device verification page)."""
    binding_message: int = 100
    """``binding_message`` of a CIBA request."""
    login_hint_token: int = 4000
    """``login_hint_token`` of a CIBA request."""
    authentication_request_id: int = 100
    """``auth_req_id`` of the CIBA grant."""
    request_body: int = 65536
    """Largest request body a protocol endpoint reads (bytes); larger bodies get 413. Not in IdentityServer."""


@dataclass(frozen=True, slots=True)
class UserInteractionOptions:
    """Where the engine sends the browser for login, consent, logout and errors."""

    login_url: str = "/account/login"
    """The login page."""
    login_return_url_parameter: str = "returnUrl"
    """Query parameter carrying the URL that resumes the authorize request."""
    logout_url: str = "/account/logout"
    """The logout page."""
    logout_id_parameter: str = "logoutId"
    """Query parameter carrying the protected logout context."""
    consent_url: str = "/consent"
    """The consent page."""
    consent_return_url_parameter: str = "returnUrl"
    """Query parameter carrying the URL that resumes the authorize request."""
    create_account_url: str | None = None
    """The registration page; setting it enables ``prompt=create`` (OIDC Prompt Create 1.0)."""
    create_account_return_url_parameter: str = "returnUrl"
    """Query parameter carrying the URL that resumes the authorize request."""
    error_url: str = "/home/error"
    """The error page."""
    error_id_parameter: str = "errorId"
    """Query parameter carrying the protected error message."""
    device_verification_url: str = "/device"
    """The device verification page (RFC 8628 §3.3 ``verification_uri``), made absolute in responses."""
    device_verification_user_code_parameter: str = "userCode"
    """Query parameter of ``verification_uri_complete`` that pre-fills the user code (RFC 8628 §3.3.1)."""


@dataclass(frozen=True, slots=True)
class UiOptions:
    """The built-in login, consent and logout pages (``docs/theming.md``)."""

    theme_path: str | None = None
    """A theme folder (relative to the configuration file): templates in ``templates/`` and static files in
    ``static/`` replace the shipped ones of the same name, a file at a time."""


@dataclass(frozen=True, slots=True)
class PersistentGrantOptions:
    """Persisted grants (codes, refresh tokens, reference tokens, consents)."""

    data_protect_data: bool = True
    """Encrypt persisted-grant payloads with the data-protection key ring."""
    delete_one_time_only_refresh_tokens_on_use: bool = True
    """6.3 default: a used one-time refresh token is deleted, leaving a tombstone of its hashed handle until it
    would have expired; ``false`` keeps it marked consumed. Either way a replay is detected and revokes the
    whole token family (RFC 9700 §4.14.2; 6.3 revokes nothing when it deletes)."""
    refresh_token_reuse_grace_period: int = 0
    """Seconds after a one-time refresh token was used during which presenting it again is refused
    (``invalid_grant``) without revoking its family, for a client's own concurrent refreshes. Not in 6.3."""
    time_ordered_handles: bool = True
    """New codes and opaque tokens start with their issue time (12 hex digits of milliseconds) before their 256
    random bits, and end ``-2``; their stored key starts with the same digits, so that a new row lands at the end
    of the ``Key`` index instead of on a random page of it (half of SQLite's write per grant,
    ``docs/performance-stored-grants.md``). ``false``: IdentityServer's own ``-1`` handles, which an
    IdentityServer (.NET) sharing the database can also look up. Either kind is read whatever the setting. Not in
    6.3."""


@dataclass(frozen=True, slots=True)
class DPoPOptions:
    """DPoP proof freshness (new in 6.3)."""

    proof_token_validity_duration: int = 60
    """How long a proof is valid after its ``iat`` (or after the nonce it carries was issued)."""
    server_clock_skew: int = 0
    """Tolerance around server-issued nonces."""


@dataclass(frozen=True, slots=True)
class MutualTlsOptions:
    """Mutual TLS: ``tls_client_auth``, certificate-bound tokens, ``/connect/mtls/*`` (RFC 8705; docs/mtls.md)."""

    enabled: bool = False
    """Accept the two certificate methods, bind tokens to certificates and serve the mTLS aliases."""
    client_certificate_authentication_scheme: str = "Certificate"
    """IdentityServer's ASP.NET handler name; accepted for compatibility (the certificate sources: docs/mtls.md)."""
    domain_name: str | None = None
    """Unset: aliases under ``/connect/mtls/``; ``mtls.example.com``: that host; ``mtls``: an issuer sub-domain."""
    always_emit_confirmation_claim: bool = False
    """Bind the tokens of every client that presents a certificate, not only those that authenticated with it."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses and networks whose ``Client-Cert`` header (RFC 9440) is honoured. Not in IdentityServer."""
    client_certificate_header: str = "Client-Cert"
    """The header those proxies put the certificate in (RFC 9440 form or nginx's escaped PEM)."""


@dataclass(frozen=True, slots=True)
class PushedAuthorizationOptions:
    """Pushed authorization requests (RFC 9126; IdentityServer 7)."""

    required: bool = False
    """PAR for every client (discovery ``require_pushed_authorization_requests``)."""
    lifetime: int = 60
    """Seconds a pushed ``request_uri`` is valid before its first use (``expires_in``)."""
    interaction_lifetime: int = 600
    """Seconds the request stays usable while the user signs in and consents. Not in IdentityServer."""


@dataclass(frozen=True, slots=True)
class CibaOptions:
    """Client-initiated backchannel authentication (OpenID Connect CIBA Core 1.0; docs/ciba.md)."""

    default_lifetime: int = 300
    """Lifetime of a backchannel authentication request when the client has no ``ciba_lifetime``."""
    default_polling_interval: int = 5
    """Minimum seconds between two token requests for one ``auth_req_id`` when the client has no
    ``polling_interval``."""
    notification_timeout: float = 10.0
    """Timeout of each ping notification attempt (seconds; CIBA Core §10.2). Not in IdentityServer."""
    notification_max_attempts: int = 5
    """Attempts per ping notification, retried with exponential backoff from 1 s (1 = no retry)."""


@dataclass(frozen=True, slots=True)
class DeviceFlowOptions:
    """The device authorization grant (RFC 8628; docs/device_flow.md)."""

    default_user_code_type: str = "numeric"
    """User codes of clients without ``user_code_type``: ``numeric`` (9 digits) or ``base20`` (``WDJB-MJHT``)."""
    interval: int = 5
    """Seconds between polls; an earlier poll gets ``slow_down`` and 5 s more (RFC 8628 §3.5)."""
    user_code_failures_per_address: int = 20
    """Wrong codes on the verification page per client address and window (RFC 8628 §5.1). Not in IdentityServer."""
    user_code_failures_per_session: int = 5
    """Wrong codes per signed-in session and window."""
    user_code_failure_window: int = 300
    """Seconds over which wrong codes are counted."""


@dataclass(frozen=True, slots=True)
class LogoutOptions:
    """Back-channel logout."""

    logout_token_jwt_type: str = "logout+jwt"
    """``typ`` of logout tokens (the 6.3 breaking change; 6.2 sent ``JWT``). Empty: no ``typ``. Duende's
    top-level ``LogoutTokenJwtType``."""
    back_channel_logout_timeout: float = 10.0
    """Timeout of each logout-token delivery attempt (seconds)."""
    back_channel_logout_max_attempts: int = 10
    """Attempts per delivery before it is given up with a warning (1 = no retry)."""
    back_channel_logout_retry_initial_delay: float = 1.0
    """Delay before the first retry (seconds); each further retry waits twice as long as the one before."""
    back_channel_logout_retry_max_delay: float = 300.0
    """Upper bound of the delay between two attempts (seconds)."""
    back_channel_logout_max_age: int = 3600
    """A delivery not sent this long after the logout is given up (seconds). Keep it short: a logout token
    without ``sid`` ends every session of the user at the client, including ones begun after this logout."""
    back_channel_logout_poll_interval: float = 1.0
    """How often each server process looks for due deliveries in the queue (seconds)."""


@dataclass(frozen=True, slots=True)
class OperationalStoreOptions:
    """Token cleanup (Duende ``OperationalStoreOptions``)."""

    enable_token_cleanup: bool = False
    """Run the cleanup in the background of the server."""
    remove_consumed_tokens: bool = False
    """Also remove consumed grants (once older than ``consumed_token_cleanup_delay``)."""
    consumed_token_cleanup_delay: int = 0
    """Keep consumed grants this long (new in 6.3)."""
    token_cleanup_interval: int = 3600
    """Time between two cleanup runs."""
    token_cleanup_batch_size: int = 100
    """Rows removed per statement; raise it for a large backlog."""


@dataclass(frozen=True, slots=True)
class LoginThrottleOptions:
    """Password-guessing limits of the login page and the ``password`` grant (RFC 6749 §4.3.2, §10.10; not in
    Duende, which leaves this to the host; docs/security.md)."""

    window: int = 300
    """Seconds a failed attempt counts for."""
    per_address: int = 5
    """Failures for one username from one address (IPv6: its /64) that refuse further attempts from there (429)."""
    per_account: int = 10
    """Failures for one username from all addresses after which every attempt for it is slowed down, never
    refused: anyone can make them, so a hard lock would let anyone lock any account out."""
    delay: float = 0.25
    """Wait before answering the first slowed-down attempt; it doubles with each further failure."""
    max_delay: float = 5.0
    """Longest wait of a slowed-down attempt."""
    cleanup_interval: int = 300
    """Time between two removals of expired throttle rows (runs even when token cleanup is off)."""


@dataclass(frozen=True, slots=True)
class ServerSideSessionsOptions:
    """Server-side user sessions (Duende ``AddServerSideSessions`` and ``ServerSideSessionOptions``)."""

    enabled: bool = False
    """Keep user sessions server-side (in the database when there is one), so that they can be listed, ended
    and coordinated with token lifetimes. The cookie then only carries the protected session key."""
    user_display_name_claim_type: str | None = None
    """The user's claim recorded as the session's display name, which session queries and ``identityserver
    sessions`` show (e.g. ``email``; a user without it gets none); unset: the ``name`` claim, else the username."""
    remove_expired_sessions: bool = True
    """Remove expired sessions in the background."""
    expired_sessions_trigger_backchannel_logout: bool = False
    """Send back-channel logout to every client of an expired session, not only the coordinated ones."""
    remove_expired_sessions_frequency: int = 600
    """Time between two expired-session cleanups."""
    remove_expired_sessions_batch_size: int = 100
    """Sessions removed per batch."""


@dataclass(frozen=True, slots=True)
class DynamicClientRegistrationOptions:
    """Dynamic client registration (RFC 7591; Duende's separate Configuration package)."""

    enabled: bool = False
    """Serve ``/connect/register`` and advertise it as ``registration_endpoint``."""
    initial_access_token: str | None = None
    """When set, registration requires ``Authorization: Bearer <token>`` (default policy); unset: open."""
    secret_lifetime: int | None = None
    """Lifetime of generated client secrets; unset: they do not expire."""
    initial_access_tokens: dict[str, dict[str, str | tuple[str, ...]]] = field(default_factory=dict)
    """Named tokens with a policy: ``token_hash``, ``grant_types``, ``scopes`` (docs/registration.md)."""
    allowed_scopes: tuple[str, ...] | None = None
    """Scopes every registered client may ask for; unset: the identity scopes."""
    open_registration_limit: int = 10
    """Registrations per address and window without an initial access token (0: no limit)."""
    open_registration_window: int = 3600
    """Seconds of the open registration rate limit's window."""
    software_statement_issuers: dict[str, str] = field(default_factory=dict)
    """Trusted software statement issuers (RFC 7591 §2.3): ``iss`` to a JWKS JSON document."""
    require_software_statement: bool = False
    """Refuse registrations and updates without a verified software statement."""
    rotate_registration_access_token: bool = False
    """A new registration access token on every update (RFC 7592 §2.2)."""


@dataclass(frozen=True, slots=True)
class DynamicProvidersOptions:
    """Upstream OpenID Connect providers (Duende ``DynamicProviderOptions``; docs/federation.md)."""

    path_prefix: str = "/federation"
    """Paths of the upstream round trip: ``{path_prefix}/{scheme}/signin``, ``/signout``, ``/signout-callback``."""


@dataclass(frozen=True, slots=True)
class ForwardedHeadersOptions:
    """Running behind a reverse proxy (ASP.NET Core ``ForwardedHeadersOptions``; docs/operations.md)."""

    trusted_proxies: tuple[str, ...] = ()
    """Addresses (``"127.0.0.1"``) and networks (``"10.0.0.0/8"``) of the proxies in front of the server. Only
    from these are ``Forwarded`` (RFC 7239) or ``X-Forwarded-For``/``-Proto``/``-Host`` honoured: the client
    address (login throttle, events) becomes the right-most untrusted address of the chain, and scheme and host
    make up the issuer when ``issuer_uri`` is unset. Empty: none is trusted and the headers are ignored."""


@dataclass(frozen=True, slots=True)
class IdentityServerOptions:
    """Root of all options."""

    issuer_uri: str | None = None
    """Fixed issuer; when unset, ``serve`` uses the bind address and library use derives it from each request.
    Set at top level of the file (``issuer_uri = ...``)."""
    allowed_hosts: tuple[str, ...] = ()
    """Without ``issuer_uri`` the issuer comes from the request's ``Host``; only these hosts are accepted (a name,
    ``name:port`` or an IP literal; ``"*"``: any), others get 400. Empty: ``localhost``, ``127.0.0.1`` and
    ``[::1]``. Ignored when ``issuer_uri`` is set (docs/security.md)."""
    lower_case_issuer_uri: bool = True
    """Lower-case an issuer derived from the request."""
    access_token_jwt_type: str = "at+jwt"
    """``typ`` of JWT access tokens (RFC 9068 §2.1)."""
    emit_static_audience_claim: bool = False
    """Add ``{issuer}/resources`` to every access token's audience."""
    emit_scopes_as_space_delimited_string_in_jwt: bool = True
    """RFC 9068 §2.2.3 makes ``scope`` a space-delimited string; IdentityServer's default (``false``) emits an
    array. This server follows the RFC by default."""
    emit_issuer_identification_response_parameter: bool = True
    """``iss`` in authorization responses (RFC 9207)."""
    emit_state_hash: bool = False
    """``s_hash`` in ID tokens of the authorize endpoint."""
    strict_jar_validation: bool = False
    """Require ``typ: oauth-authz-req+jwt`` on request objects (RFC 9101 §4)."""
    security_profile: str | None = None
    """Default of ``Client.security_profile`` for every client: ``"fapi2"`` (FAPI 2.0 Security Profile) or
    ``"fapi2_message_signing"`` (FAPI 2.0 Message Signing); docs/fapi.md. Not in IdentityServer."""
    endpoints: EndpointsOptions = field(default_factory=EndpointsOptions)
    discovery: DiscoveryOptions = field(default_factory=DiscoveryOptions)
    authentication: AuthenticationOptions = field(default_factory=AuthenticationOptions)
    events: EventsOptions = field(default_factory=EventsOptions)
    input_length_restrictions: InputLengthRestrictions = field(default_factory=InputLengthRestrictions)
    user_interaction: UserInteractionOptions = field(default_factory=UserInteractionOptions)
    ui: UiOptions = field(default_factory=UiOptions)
    caching: CachingOptions = field(default_factory=CachingOptions)
    key_management: KeyManagementOptions = field(default_factory=KeyManagementOptions)
    data_protection: DataProtectionOptions = field(default_factory=DataProtectionOptions)
    persisted_grants: PersistentGrantOptions = field(default_factory=PersistentGrantOptions)
    dpop: DPoPOptions = field(default_factory=DPoPOptions)
    mutual_tls: MutualTlsOptions = field(default_factory=MutualTlsOptions)
    device_flow: DeviceFlowOptions = field(default_factory=DeviceFlowOptions)
    ciba: CibaOptions = field(default_factory=CibaOptions)
    logout: LogoutOptions = field(default_factory=LogoutOptions)
    pushed_authorization: PushedAuthorizationOptions = field(default_factory=PushedAuthorizationOptions)
    operational: OperationalStoreOptions = field(default_factory=OperationalStoreOptions)
    server_side_sessions: ServerSideSessionsOptions = field(default_factory=ServerSideSessionsOptions)
    login_throttle: LoginThrottleOptions = field(default_factory=LoginThrottleOptions)
    dynamic_client_registration: DynamicClientRegistrationOptions = field(
        default_factory=DynamicClientRegistrationOptions
    )
    clock: ClockOptions = field(default_factory=ClockOptions)
    telemetry: TelemetryOptions = field(default_factory=TelemetryOptions)
    forwarded_headers: ForwardedHeadersOptions = field(default_factory=ForwardedHeadersOptions)
    dynamic_providers: DynamicProvidersOptions = field(default_factory=DynamicProvidersOptions)
