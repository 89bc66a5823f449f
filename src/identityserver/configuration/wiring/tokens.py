"""Default token pipeline: client authentication, the grants, DPoP, token creation and validation."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.configuration.wiring.composition import Composition, default, optional_default
from identityserver.constants import GrantType
from identityserver.response_handling.token import TokenResponseGenerator
from identityserver.services.authorization_codes import DefaultAuthorizationCodeService
from identityserver.services.claims import DefaultClaimsService
from identityserver.services.events import DefaultEventService, LoggingEventSink
from identityserver.services.grant_revocation import DefaultGrantRevocationService
from identityserver.services.login_throttle import DefaultLoginThrottle
from identityserver.services.profile import DefaultProfileService, TestUserProfileService
from identityserver.services.protocols import (
    AuthorizationCodeService,
    DataProtectionKeyRing,
    EventService,
    EventSink,
    GrantRevocationService,
    KeyMaterialService,
    LoginThrottle,
    ProfileService,
    RefreshTokenService,
    SessionCoordinationService,
    TokenCreationService,
    TokenService,
)
from identityserver.services.refresh_tokens import DefaultRefreshTokenService, SessionValidator
from identityserver.services.token_service import DefaultTokenService
from identityserver.stores.protocols import (
    AuthorizationCodeStore,
    CachedStore,
    ClientStore,
    PersistedGrantStore,
    ReferenceTokenStore,
    RefreshTokenStore,
    ReplayCache,
    ResourceStore,
    ServerSideSessionStore,
    TotpStore,
    UserStore,
)
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator
from identityserver.validation.client_secrets.mutual_tls import MutualTlsSecretValidator
from identityserver.validation.client_secrets.validators import (
    HashedSharedSecretValidator,
    PrivateKeyJwtSecretValidator,
)
from identityserver.validation.dpop import DefaultDPoPProofValidator
from identityserver.validation.protocols import (
    CustomTokenRequestValidator,
    ExtensionGrantValidator,
    ResourceOwnerPasswordValidator,
)
from identityserver.validation.resource_owner_password import TestUserResourceOwnerPasswordValidator
from identityserver.validation.resources import MEMO_SECONDS, DefaultResourceValidator
from identityserver.validation.security_profile import SecurityProfileProofValidator
from identityserver.validation.token_request.authorization_code import AuthorizationCodeGrantValidator
from identityserver.validation.token_request.certificate_binding import CertificateBindingProofValidator
from identityserver.validation.token_request.ciba import CibaGrantValidator
from identityserver.validation.token_request.client_credentials import ClientCredentialsGrantValidator
from identityserver.validation.token_request.device_code import DeviceCodeGrantValidator
from identityserver.validation.token_request.dpop_proof import TokenRequestProofValidator
from identityserver.validation.token_request.extension_grant import ExtensionGrantRequestValidator
from identityserver.validation.token_request.password import PasswordGrantValidator
from identityserver.validation.token_request.refresh_token import RefreshTokenGrantValidator
from identityserver.validation.token_request.token_exchange import TokenExchangeGrantValidator
from identityserver.validation.token_request.validator import GrantValidator, ProofValidator, TokenRequestValidator
from identityserver.validation.token_validator import TokenValidator

DPOP_NONCE_PURPOSE = "DPoPProofValidation-nonce"


@default(EventSink)
def event_sink(c: Composition) -> EventSink:
    return LoggingEventSink()


@default(EventService)
def events(c: Composition) -> EventService:
    return c.cls(EventService, DefaultEventService)(c.options.events, c.get(EventSink), c.get(Clock))


@default(ProfileService)
def profile(c: Composition) -> ProfileService:
    users = c.optional(UserStore)
    if users is not None:
        return c.cls(ProfileService, TestUserProfileService)(users)
    return c.cls(ProfileService, DefaultProfileService)()


@default(DefaultClaimsService)
def claims(c: Composition) -> DefaultClaimsService:
    return c.cls(DefaultClaimsService, DefaultClaimsService)(c.get(ProfileService))


@default(TokenService)
def token_service(c: Composition) -> TokenService:
    return c.cls(TokenService, DefaultTokenService)(
        c.get(DefaultClaimsService),
        c.get(TokenCreationService),
        c.get(ReferenceTokenStore),
        c.options,
        c.get(Clock),
    )


@default(RefreshTokenService)
def refresh_tokens(c: Composition) -> RefreshTokenService:
    return c.cls(RefreshTokenService, DefaultRefreshTokenService)(
        c.get(RefreshTokenStore),
        c.get(PersistedGrantStore),
        c.get(ProfileService),
        c.options.persisted_grants,
        c.get(Clock),
        session_validator=_session_validator(c),
        revocation=c.get(GrantRevocationService),
    )


@default(GrantRevocationService)
def grant_revocation(c: Composition) -> GrantRevocationService:
    return c.cls(GrantRevocationService, DefaultGrantRevocationService)(
        c.get(PersistedGrantStore), c.get(RefreshTokenStore), c.get(Clock)
    )


def _session_validator(c: Composition) -> SessionValidator | None:
    """Tokens are checked against the user's session only when sessions are kept server-side."""
    if c.optional(ServerSideSessionStore) is None:
        return None
    return c.get(SessionCoordinationService).validate_session


@default(AuthorizationCodeService)
def authorization_codes(c: Composition) -> AuthorizationCodeService:
    codes = c.cls(AuthorizationCodeService, DefaultAuthorizationCodeService)(
        c.get(AuthorizationCodeStore),
        c.get(PersistedGrantStore),
        c.get(Clock),
        c.get(GrantRevocationService),
    )
    return codes


@default(LoginThrottle)
def login_throttle(c: Composition) -> LoginThrottle:
    return c.cls(LoginThrottle, DefaultLoginThrottle)(
        c.get(PersistedGrantStore), c.get(Clock), c.options.login_throttle
    )


@optional_default(ResourceOwnerPasswordValidator)
def resource_owner_validator(c: Composition) -> ResourceOwnerPasswordValidator | None:
    """The test users' check when there are users; without one the ``password`` grant is off."""
    users = c.optional(UserStore)
    if users is None:
        return None
    return c.cls(ResourceOwnerPasswordValidator, TestUserResourceOwnerPasswordValidator)(
        users, c.get(Clock), c.optional(TotpStore)
    )


@default(HashedSharedSecretValidator)
def shared_secrets(c: Composition) -> HashedSharedSecretValidator:
    return c.cls(HashedSharedSecretValidator, HashedSharedSecretValidator)()


@default(ClientSecretValidator)
def client_secret_validator(c: Composition) -> ClientSecretValidator:
    return c.cls(ClientSecretValidator, ClientSecretValidator)(
        c.get(ClientStore),
        c.get(HashedSharedSecretValidator),
        c.get(PrivateKeyJwtSecretValidator),
        c.get(EventService),
        c.options.input_length_restrictions,
        c.get(Clock),
        mutual_tls=c.optional(MutualTlsSecretValidator),
        security_profile=c.options.security_profile,
    )


@default(PrivateKeyJwtSecretValidator)
def private_key_jwt(c: Composition) -> PrivateKeyJwtSecretValidator:
    return c.cls(PrivateKeyJwtSecretValidator, PrivateKeyJwtSecretValidator)(c.get(ReplayCache), c.get(Clock))


@optional_default(MutualTlsSecretValidator)
def mutual_tls(c: Composition) -> MutualTlsSecretValidator | None:
    """RFC 8705 client authentication, only while ``[options.mutual_tls] enabled``."""
    if not c.options.mutual_tls.enabled:
        return None
    return c.cls(MutualTlsSecretValidator, MutualTlsSecretValidator)(c.get(Clock))


@default(DefaultResourceValidator)
def resource_validator(c: Composition) -> DefaultResourceValidator:
    store = c.get(ResourceStore)
    # Validation outcomes may be memoized only while the store's own answers are at least as stale.
    stable = isinstance(store, CachedStore) and store.cache_seconds >= MEMO_SECONDS
    return c.cls(DefaultResourceValidator, DefaultResourceValidator)(store, None, c.get(Clock), stable)


@default(DefaultDPoPProofValidator)
def dpop(c: Composition) -> DefaultDPoPProofValidator:
    return c.cls(DefaultDPoPProofValidator, DefaultDPoPProofValidator)(
        c.options.dpop,
        c.get(DataProtectionKeyRing).create_protector(DPOP_NONCE_PURPOSE),
        c.get(ReplayCache),
        c.get(Clock),
        c.options.input_length_restrictions.dpop_proof_token,
    )


@default(AuthorizationCodeGrantValidator)
def authorization_code_grant(c: Composition) -> AuthorizationCodeGrantValidator:
    return c.cls(AuthorizationCodeGrantValidator, AuthorizationCodeGrantValidator)(
        c.get(AuthorizationCodeService),
        c.get(ProfileService),
    )


@default(ClientCredentialsGrantValidator)
def client_credentials_grant(c: Composition) -> ClientCredentialsGrantValidator:
    return c.cls(ClientCredentialsGrantValidator, ClientCredentialsGrantValidator)()


@default(RefreshTokenGrantValidator)
def refresh_token_grant(c: Composition) -> RefreshTokenGrantValidator:
    return c.cls(RefreshTokenGrantValidator, RefreshTokenGrantValidator)(c.get(RefreshTokenService))


@optional_default(PasswordGrantValidator)
def password_grant(c: Composition) -> PasswordGrantValidator | None:
    validator = c.optional(ResourceOwnerPasswordValidator)
    if validator is None:
        return None
    return c.cls(PasswordGrantValidator, PasswordGrantValidator)(validator, c.get(LoginThrottle))


def grant_validators(c: Composition) -> dict[str, GrantValidator]:
    """The grant types the token endpoint accepts: the built-in ones and every extension grant."""
    found: dict[str, GrantValidator] = {
        GrantType.AUTHORIZATION_CODE: c.get(AuthorizationCodeGrantValidator),
        GrantType.CLIENT_CREDENTIALS: c.get(ClientCredentialsGrantValidator),
        GrantType.REFRESH_TOKEN: c.get(RefreshTokenGrantValidator),
        GrantType.DEVICE_CODE: c.get(DeviceCodeGrantValidator),
        GrantType.TOKEN_EXCHANGE: c.get(TokenExchangeGrantValidator),
    }
    if c.options.endpoints.enable_backchannel_authentication_endpoint:
        found[GrantType.CIBA] = c.get(CibaGrantValidator)
    password = c.optional(PasswordGrantValidator)
    if password is not None:
        found[GrantType.PASSWORD] = password
    for extension in c.items(ExtensionGrantValidator):
        if extension.grant_type in found:
            raise ValueError(f"extension grant {extension.grant_type!r} collides with a built-in grant")
        found[extension.grant_type] = c.cls(ExtensionGrantRequestValidator, ExtensionGrantRequestValidator)(extension)
    return found


@default(TokenRequestValidator)
def token_request_validator(c: Composition) -> TokenRequestValidator:
    return c.cls(TokenRequestValidator, TokenRequestValidator)(
        grant_validators(c),
        c.options,
        c.get(DefaultResourceValidator),
        c.get(Clock),
        c.items(CustomTokenRequestValidator),
        c.get(ProofValidator),
    )


@default(ProofValidator)
def proof_validator(c: Composition) -> ProofValidator:
    """DPoP, the certificate binding of RFC 8705 when mutual TLS is on, and what the security profile demands of
    both (FAPI 2.0 §5.3.2.1: sender-constrained tokens)."""
    inner: ProofValidator = TokenRequestProofValidator(c.get(DefaultDPoPProofValidator))
    if c.options.mutual_tls.enabled:
        inner = CertificateBindingProofValidator(inner, c.options.mutual_tls)
    return c.cls(ProofValidator, SecurityProfileProofValidator)(inner)


@default(TokenResponseGenerator)
def token_response_generator(c: Composition) -> TokenResponseGenerator:
    return c.cls(TokenResponseGenerator, TokenResponseGenerator)(
        c.get(TokenService),
        c.get(RefreshTokenService),
        c.get(AuthorizationCodeService),
        c.options,
        c.get(Clock),
    )


@default(TokenValidator)
def token_validator(c: Composition) -> TokenValidator:
    return c.cls(TokenValidator, TokenValidator)(
        c.options,
        c.get(KeyMaterialService),
        c.get(ClientStore),
        c.get(ReferenceTokenStore),
        c.get(Clock),
        c.get(GrantRevocationService).is_jti_revoked,
        session_validator=_session_validator(c),
    )
