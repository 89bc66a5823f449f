"""``IdentityServerOptions`` and its groups (Duende ``Configuration/DependencyInjection/Options``).

Every field is the snake_case of IdentityServer's property, with 6.3's default; durations are seconds.
Only what this server implements is here. In the TOML file each group is ``[options.<group>]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class EndpointsOptions:
    """Switches for each protocol endpoint (disabled endpoints answer 404 and leave discovery)."""

    enable_authorize_endpoint: bool = True
    enable_token_endpoint: bool = True
    enable_userinfo_endpoint: bool = True
    enable_discovery_endpoint: bool = True
    enable_end_session_endpoint: bool = True
    enable_check_session_endpoint: bool = True
    enable_token_revocation_endpoint: bool = True
    enable_introspection_endpoint: bool = True
    enable_device_authorization_endpoint: bool = True
    enable_backchannel_authentication_endpoint: bool = True
    enable_jwt_request_uri: bool = False
    """Accept ``request_uri`` on the authorize endpoint (RFC 9101 §5.2). Off: SSRF surface."""


@dataclass(frozen=True, slots=True)
class DiscoveryOptions:
    response_cache_interval: int | None = None
    """``Cache-Control: max-age`` for discovery and JWKS responses; ``None`` sends no-cache."""
    custom_entries: dict[str, str] = field(default_factory=dict)
    """Extra members added to the discovery document."""


@dataclass(frozen=True, slots=True)
class AuthenticationOptions:
    cookie_lifetime: int = 36000
    """Lifetime of the user's sign-in session cookie (10 hours)."""
    cookie_sliding_expiration: bool = False
    check_session_cookie_name: str = "idsrv.session"
    require_authenticated_user_for_sign_out_message: bool = False
    coordinate_client_lifetimes_with_user_session: bool = False
    """Global default of ``Client.coordinate_lifetime_with_user_session``."""
    require_csp_frame_src_for_signout: bool = True


@dataclass(frozen=True, slots=True)
class EventsOptions:
    """Which events are raised to the event sink (all off by default, as in IdentityServer)."""

    raise_success_events: bool = False
    raise_failure_events: bool = False
    raise_information_events: bool = False
    raise_error_events: bool = False


@dataclass(frozen=True, slots=True)
class InputLengthRestrictions:
    """Maximum lengths of request parameters (characters); longer values are rejected."""

    client_id: int = 100
    client_secret: int = 100
    scope: int = 300
    redirect_uri: int = 400
    nonce: int = 300
    ui_locale: int = 100
    login_hint: int = 100
    acr_values: int = 300
    grant_type: int = 100
    user_name: int = 100
    password: int = 100
    state: int = 2000
    authorization_code: int = 100
    device_code: int = 100
    refresh_token: int = 100
    token_handle: int = 100
    jwt: int = 51200
    code_challenge_min_length: int = 43
    code_challenge_max_length: int = 128
    code_verifier_min_length: int = 43
    code_verifier_max_length: int = 128
    resource_indicator_max_length: int = 512
    binding_message: int = 100
    user_code: int = 100
    id_token_hint: int = 4000
    login_hint_token: int = 4000
    authentication_request_id: int = 100
    dpop_key_thumbprint: int = 100
    dpop_proof_token: int = 4000
    request_body: int = 65536
    """Largest form body any endpoint reads (bytes); larger bodies get 413."""


@dataclass(frozen=True, slots=True)
class UserInteractionOptions:
    login_url: str = "/account/login"
    login_return_url_parameter: str = "returnUrl"
    logout_url: str = "/account/logout"
    logout_id_parameter: str = "logoutId"
    consent_url: str = "/consent"
    consent_return_url_parameter: str = "returnUrl"
    create_account_url: str | None = None
    """Setting this enables ``prompt=create`` (OIDC Prompt Create 1.0)."""
    create_account_return_url_parameter: str = "returnUrl"
    error_url: str = "/home/error"
    error_id_parameter: str = "errorId"
    device_verification_url: str = "/device"
    device_verification_user_code_parameter: str = "userCode"


@dataclass(frozen=True, slots=True)
class CachingOptions:
    client_store_expiration: int = 900
    resource_store_expiration: int = 900


@dataclass(frozen=True, slots=True)
class KeyManagementOptions:
    """Automatic signing-key management (Duende ``KeyManagementOptions``)."""

    enabled: bool = True
    rsa_key_size: int = 2048
    signing_algorithms: tuple[str, ...] = ("RS256",)
    """Algorithms with a managed key each; the first is the default for tokens."""
    initialization_duration: int = 300
    initialization_synchronization_delay: int = 5
    initialization_key_cache_duration: int = 60
    key_cache_duration: int = 86400
    propagation_time: int = 14 * 86400
    """How long a new key is announced in JWKS before it signs anything."""
    rotation_interval: int = 90 * 86400
    """Age at which a key stops signing."""
    retention_duration: int = 14 * 86400
    """How long a rotated key stays in JWKS for validation."""
    delete_retired_keys: bool = True
    data_protect_keys: bool = True
    """Encrypt key material at rest with the data-protection key ring."""
    key_path: str | None = None
    """Folder of the file-system key store; default ``<state>/keys``."""


@dataclass(frozen=True, slots=True)
class DataProtectionOptions:
    application_name: str = "identityserver"
    """Isolates protected payloads: data protected under one name cannot be read under another.
    Set explicitly so that moving the install folder never invalidates keys (6.3 upgrade guide, Step 3)."""
    key_ring_path: str | None = None
    """Folder of the key ring; default ``<state>/data-protection``."""
    key_lifetime: int = 90 * 86400


@dataclass(frozen=True, slots=True)
class PersistentGrantOptions:
    data_protect_data: bool = True
    """Encrypt persisted-grant payloads with the data-protection key ring."""
    delete_one_time_only_refresh_tokens_on_use: bool = True
    """6.3 default: a used one-time refresh token is deleted; ``false`` marks it consumed so that a replay is
    detected and revokes the whole token family (RFC 9700 §4.14.2)."""


@dataclass(frozen=True, slots=True)
class DPoPOptions:
    proof_token_validity_duration: int = 60
    server_clock_skew: int = 0


@dataclass(frozen=True, slots=True)
class LogoutOptions:
    logout_token_jwt_type: str = "logout+jwt"
    """``typ`` of back-channel logout tokens (6.3; 6.2 sent ``JWT``). Empty: no ``typ``."""
    back_channel_logout_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class OperationalStoreOptions:
    """Token cleanup (Duende ``OperationalStoreOptions``)."""

    enable_token_cleanup: bool = False
    remove_consumed_tokens: bool = False
    consumed_token_cleanup_delay: int = 0
    token_cleanup_interval: int = 3600
    token_cleanup_batch_size: int = 100


@dataclass(frozen=True, slots=True)
class ServerSideSessionsOptions:
    enabled: bool = False
    """Keep user sessions server-side (in the database when there is one), so that they can be listed, ended
    and coordinated with token lifetimes. The cookie then only carries the protected session key."""
    user_display_name_claim_type: str | None = None
    remove_expired_sessions: bool = True
    expired_sessions_trigger_backchannel_logout: bool = False
    remove_expired_sessions_frequency: int = 600
    remove_expired_sessions_batch_size: int = 100


@dataclass(frozen=True, slots=True)
class DeviceFlowOptions:
    default_user_code_type: str = "Numeric"
    interval: int = 5


@dataclass(frozen=True, slots=True)
class CibaOptions:
    default_lifetime: int = 300
    default_polling_interval: int = 5


@dataclass(frozen=True, slots=True)
class DynamicClientRegistrationOptions:
    enabled: bool = False
    initial_access_token: str | None = None
    """When set, registration requires ``Authorization: Bearer <token>``; when absent it is open."""
    secret_lifetime: int | None = None


@dataclass(frozen=True, slots=True)
class IdentityServerOptions:
    """Root of all options."""

    issuer_uri: str | None = None
    """Fixed issuer; when ``None`` it is derived from each request (scheme, host, root path)."""
    lower_case_issuer_uri: bool = True
    access_token_jwt_type: str = "at+jwt"
    emit_static_audience_claim: bool = False
    emit_scopes_as_space_delimited_string_in_jwt: bool = True
    """RFC 9068 §2.2.3 makes ``scope`` a space-delimited string; IdentityServer's default (``false``) emits an
    array. This server follows the RFC by default."""
    emit_issuer_identification_response_parameter: bool = True
    emit_state_hash: bool = False
    strict_jar_validation: bool = False
    endpoints: EndpointsOptions = field(default_factory=EndpointsOptions)
    discovery: DiscoveryOptions = field(default_factory=DiscoveryOptions)
    authentication: AuthenticationOptions = field(default_factory=AuthenticationOptions)
    events: EventsOptions = field(default_factory=EventsOptions)
    input_length_restrictions: InputLengthRestrictions = field(default_factory=InputLengthRestrictions)
    user_interaction: UserInteractionOptions = field(default_factory=UserInteractionOptions)
    caching: CachingOptions = field(default_factory=CachingOptions)
    key_management: KeyManagementOptions = field(default_factory=KeyManagementOptions)
    data_protection: DataProtectionOptions = field(default_factory=DataProtectionOptions)
    persisted_grants: PersistentGrantOptions = field(default_factory=PersistentGrantOptions)
    dpop: DPoPOptions = field(default_factory=DPoPOptions)
    logout: LogoutOptions = field(default_factory=LogoutOptions)
    operational: OperationalStoreOptions = field(default_factory=OperationalStoreOptions)
    server_side_sessions: ServerSideSessionsOptions = field(default_factory=ServerSideSessionsOptions)
    device_flow: DeviceFlowOptions = field(default_factory=DeviceFlowOptions)
    ciba: CibaOptions = field(default_factory=CibaOptions)
    dynamic_client_registration: DynamicClientRegistrationOptions = field(
        default_factory=DynamicClientRegistrationOptions
    )
