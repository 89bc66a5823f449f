"""The ``Client`` model with IdentityServer 6.3's properties and defaults (Duende ``Models/Client.cs``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, IntFlag

from identityserver.constants import SecretTypes


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
    enabled: bool = True
    protocol_type: str = "oidc"
    client_secrets: list[Secret] = field(default_factory=list)
    require_client_secret: bool = True
    client_name: str | None = None
    description: str | None = None
    client_uri: str | None = None
    logo_uri: str | None = None
    require_consent: bool = False
    allow_remember_consent: bool = True
    allowed_grant_types: list[str] = field(default_factory=list)
    require_pkce: bool = True
    allow_plain_text_pkce: bool = False
    require_request_object: bool = False
    allow_access_tokens_via_browser: bool = False
    require_dpop: bool = False
    dpop_validation_mode: DPoPTokenExpirationValidationMode = DPoPTokenExpirationValidationMode.IAT
    dpop_clock_skew: int = 300
    redirect_uris: list[str] = field(default_factory=list)
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    front_channel_logout_uri: str | None = None
    front_channel_logout_session_required: bool = True
    back_channel_logout_uri: str | None = None
    back_channel_logout_session_required: bool = True
    allow_offline_access: bool = False
    allowed_scopes: list[str] = field(default_factory=list)
    always_include_user_claims_in_id_token: bool = False
    identity_token_lifetime: int = 300
    allowed_identity_token_signing_algorithms: list[str] = field(default_factory=list)
    access_token_lifetime: int = 3600
    authorization_code_lifetime: int = 300
    absolute_refresh_token_lifetime: int = 2592000
    sliding_refresh_token_lifetime: int = 1296000
    consent_lifetime: int | None = None
    refresh_token_usage: TokenUsage = TokenUsage.ONE_TIME_ONLY
    update_access_token_claims_on_refresh: bool = False
    refresh_token_expiration: TokenExpiration = TokenExpiration.ABSOLUTE
    access_token_type: AccessTokenType = AccessTokenType.JWT
    enable_local_login: bool = True
    identity_provider_restrictions: list[str] = field(default_factory=list)
    include_jwt_id: bool = True
    claims: list[ClientClaim] = field(default_factory=list)
    always_send_client_claims: bool = False
    client_claims_prefix: str | None = "client_"
    pair_wise_subject_salt: str | None = None
    user_sso_lifetime: int | None = None
    user_code_type: str | None = None
    device_code_lifetime: int = 300
    ciba_lifetime: int | None = None
    polling_interval: int | None = None
    coordinate_lifetime_with_user_session: bool | None = None
    allowed_cors_origins: list[str] = field(default_factory=list)
    initiate_login_uri: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    #: Restricts the client to one authentication method at the token endpoint (RFC 7591 §2).
    token_endpoint_auth_method: str | None = None
