"""Service contracts (Duende ``Services`` interfaces without the ``I``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from identityserver.models.claims import Principal
from identityserver.models.client import Client
from identityserver.models.contexts import IsActiveContext, ProfileDataRequestContext
from identityserver.models.grants import AuthorizationCode, Consent, ProofType, RefreshToken, Token
from identityserver.models.keys import KeyContainer
from identityserver.models.messages import (
    AuthorizationError,
    AuthorizationRequest,
    ConsentResponse,
    ErrorMessage,
    LogoutMessage,
)
from identityserver.models.sessions import QueryResult, ServerSideSession, SessionQuery
from identityserver.stores.protocols import ReferenceTokenStore, RefreshTokenStore

if TYPE_CHECKING:
    import httpx

    from identityserver.crypto.jwt import DecodedJws
    from identityserver.crypto.protection import DataProtector
    from identityserver.events.base import Event, EventTypes
    from identityserver.services.authorization_codes import CodeRedemption, IssuedTokens
    from identityserver.services.refresh_tokens import RefreshTokenValidationResult
    from identityserver.services.session_management import RemoveSessionsContext, UserSession
    from identityserver.services.token_service import TokenCreationRequest
    from identityserver.services.user_session import SessionTicket


class EventSink(Protocol):
    async def persist(self, event: Event) -> None: ...


class ProfileService(Protocol):
    async def get_profile_data(self, context: ProfileDataRequestContext) -> None:
        """Add the subject's claims to ``context.issued_claims``."""
        ...

    async def is_active(self, context: IsActiveContext) -> None:
        """Set ``context.is_active`` to ``False`` when the subject may no longer get tokens."""
        ...


class KeyMaterialService(Protocol):
    """Signing and validation keys (Duende ``IKeyMaterialService``)."""

    async def get_signing_credentials(self, allowed_algorithms: list[str] | None = None) -> KeyContainer:
        """The current key for the first configured algorithm that is allowed (all are when none given)."""
        ...

    async def get_all_signing_credentials(self) -> list[KeyContainer]: ...

    async def get_validation_keys(self) -> list[KeyContainer]: ...

    async def verify_issued_jws(self, jws: DecodedJws) -> bool:
        """Whether one of our validation keys (matched by ``kid`` and ``alg``) signed ``jws``."""
        ...

    async def get_json_web_keys(self) -> list[dict[str, Any]]:
        """Public JWKs of every non-retired key (the JWKS document)."""
        ...


class TokenCreationService(Protocol):
    async def create_token(self, token: Token) -> str:
        """Serialize and sign a token as a JWT."""
        ...

    async def signing_algorithm(self, allowed: list[str] | None) -> str:
        """The algorithm a token limited to ``allowed`` (any when empty) will be signed with."""
        ...


class CorsPolicyService(Protocol):
    async def is_origin_allowed(self, origin: str) -> bool: ...


class ReturnUrlParser(Protocol):
    """Reads the authorize request behind a login/consent ``returnUrl`` (Duende ``IReturnUrlParser``)."""

    async def parse(self, return_url: str | None, issuer: str) -> AuthorizationRequest | None:
        """The validated request, or ``None`` when the URL is not a pending authorize request of this server."""
        ...


class EventService(Protocol):
    """Raises events to the sink when their type is switched on (Duende ``IEventService``)."""

    def can_raise(self, event_type: EventTypes) -> bool: ...

    async def raise_event(self, event: Event, remote_ip: str | None = None) -> None: ...


class KeyManager(Protocol):
    """Creates, rotates and retires signing keys (Duende ``IKeyManager``)."""

    async def get_current_keys(self) -> list[KeyContainer]:
        """The signing key of each configured algorithm, in ``signing_algorithms`` order."""
        ...

    async def get_all_keys(self) -> list[KeyContainer]:
        """All keys that are not retired: the ones to publish in JWKS."""
        ...


class DataProtectionKeyRing(Protocol):
    """Purpose-bound protectors over the shared key ring, which ``initialize`` loads at start-up."""

    def create_protector(self, purpose: str) -> DataProtector: ...

    async def initialize(self) -> None: ...


class TokenService(Protocol):
    """Creates access and identity tokens and serializes them (Duende ``ITokenService``)."""

    creation: TokenCreationService
    reference_tokens: ReferenceTokenStore

    async def create_access_token(self, request: TokenCreationRequest) -> Token: ...

    async def create_identity_token(self, request: TokenCreationRequest) -> Token: ...

    async def create_security_token(self, token: Token) -> str:
        """A signed JWT, or the handle of a stored reference token."""
        ...


class RefreshTokenService(Protocol):
    """Refresh tokens: creation, validation, rotation and family revocation (Duende ``IRefreshTokenService``)."""

    store: RefreshTokenStore

    def initial_lifetime(self, client: Client) -> int: ...

    async def create_refresh_token(
        self,
        subject: Principal,
        access_token: Token,
        client: Client,
        authorized_scopes: list[str],
        resource_indicators: list[str] | None,
        session_id: str | None,
        proof_type: ProofType,
        description: str | None = None,
        family_id: str | None = None,
    ) -> str: ...

    async def validate_refresh_token(
        self, handle: str, client: Client, detect_reuse: bool = True
    ) -> RefreshTokenValidationResult: ...

    async def rotate(self, handle: str, token: RefreshToken, client: Client, access_token: Token) -> str | None:
        """The successor's handle; ``None`` when another request claimed the presented token first."""
        ...

    async def update_refresh_token(
        self, handle: str, token: RefreshToken, client: Client, access_token: Token
    ) -> str: ...

    async def revoke_family(self, token: RefreshToken) -> None:
        """Revoke every token descended from the same original grant (RFC 9700 §4.14.2)."""
        ...

    async def revoke_family_by_id(
        self, subject_id: str, client_id: str, family_id: str, session_id: str | None
    ) -> None: ...

    async def family_of_used_token(self, handle: str, client_id: str) -> tuple[str, str, str | None] | None:
        """``(subject_id, family_id, session_id)`` of a recently rotated-away token of this client."""
        ...

    async def remove_refresh_token(self, handle: str) -> None: ...


class GrantRevocationService(Protocol):
    """Revokes what a grant issued: access tokens by ``jti`` and refresh-token families (RFC 9700 §4.14.2)."""

    async def revoke_jti(self, jti: str, expiration: int) -> None: ...

    async def is_jti_revoked(self, jti: str) -> bool: ...

    async def revoke_access_tokens(self, token: RefreshToken) -> None: ...

    async def revoke_family(self, subject_id: str, client_id: str, family_id: str, session_id: str | None) -> None: ...

    async def is_family_revoked(self, family_id: str) -> bool: ...


class AuthorizationCodeService(Protocol):
    """One-time authorization codes and what a replay revokes (RFC 6749 §4.1.2, §10.5)."""

    async def create(self, code: AuthorizationCode) -> str: ...

    def family_id(self, handle: str) -> str:
        """The refresh-token family of everything issued from this code."""
        ...

    async def redeem(self, handle: str) -> CodeRedemption:
        """Consume the code; a second presentation is a replay and revokes what the first one issued."""
        ...

    async def record_issued(self, handle: str, code: AuthorizationCode, issued: IssuedTokens) -> None: ...

    async def revoke_jti(self, jti: str, expiration: int) -> None: ...

    async def is_jti_revoked(self, jti: str) -> bool: ...


class ConsentService(Protocol):
    """Remembered consent (Duende ``IConsentService``)."""

    async def require_consent(self, subject_id: str, client: Client, scopes: list[str]) -> bool: ...

    async def get_consent(self, subject_id: str, client_id: str) -> Consent | None: ...

    async def update_consent(self, subject_id: str, client: Client, scopes: list[str]) -> None: ...

    async def get_all_consents(self, subject_id: str) -> list[Consent]: ...

    async def revoke_consent(self, subject_id: str, client_id: str) -> None:
        """Forget the consent and end the grants it allowed."""
        ...


class MessageStore(Protocol):
    """Short-lived protected messages between the engine and the UI (Duende ``IMessageStore<T>``)."""

    lifetime: int
    """Seconds a message stays readable."""

    async def write(self, kind: str, data: dict[str, Any]) -> str: ...

    async def read(self, kind: str, message_id: str | None) -> dict[str, Any] | None:
        """The message, or ``None`` when absent, forged, of another kind or expired."""
        ...


class UserSessionService(Protocol):
    """The signed-in user's session cookie (Duende ``IUserSession``)."""

    async def authenticate(self, cookies: dict[str, str]) -> SessionTicket | None: ...

    def new_ticket(
        self,
        subject_id: str,
        amr: list[str],
        idp: str = "local",
        display_name: str | None = None,
        acr: str | None = None,
        issuer: str | None = None,
    ) -> SessionTicket: ...

    async def sign_in(self, ticket: SessionTicket, secure: bool) -> list[str]:
        """Persist the session and return the ``Set-Cookie`` values."""
        ...

    async def update(self, ticket: SessionTicket, secure: bool) -> list[str]: ...

    async def add_client(self, ticket: SessionTicket, client_id: str, secure: bool) -> list[str]: ...

    async def sign_out(self, ticket: SessionTicket | None, secure: bool) -> list[str]: ...


class IdentityServerInteractionService(Protocol):
    """The UI's only door into the engine (Duende ``IIdentityServerInteractionService``)."""

    async def get_authorization_context(self, return_url: str | None, issuer: str) -> AuthorizationRequest | None: ...

    def is_valid_return_url(self, return_url: str | None) -> bool: ...

    async def grant_consent(
        self, request: AuthorizationRequest, response: ConsentResponse, subject_id: str, return_url: str
    ) -> str: ...

    async def deny_authorization(
        self,
        request: AuthorizationRequest,
        error: AuthorizationError,
        return_url: str,
        subject_id: str | None = None,
        description: str | None = None,
    ) -> str: ...

    async def read_consent_response(
        self, token: str | None, parameters: dict[str, str], resources: list[str], subject_id: str | None
    ) -> ConsentResponse | None: ...

    async def create_error_id(self, message: ErrorMessage) -> str: ...

    async def get_error_context(self, error_id: str | None) -> ErrorMessage | None: ...

    async def create_logout_id(self, message: LogoutMessage) -> str: ...

    async def get_logout_context(self, logout_id: str | None) -> LogoutMessage | None: ...

    async def get_all_user_grants(self, subject_id: str) -> list[tuple[Consent, Client | None]]: ...

    async def revoke_user_consent(self, subject_id: str, client_id: str) -> None: ...


class LogoutService(Protocol):
    async def session_clients(self, client_ids: list[str]) -> list[Client]: ...

    def front_channel_logout_url(self, client: Client, issuer: str, session_id: str | None) -> str | None: ...

    async def signed_out(self, message: LogoutMessage, issuer: str) -> LogoutMessage:
        """Fill in the front-channel URLs and run the session-ended hooks (back-channel, token revocation)."""
        ...


class LoginThrottle(Protocol):
    """Slows password guessing per account and per address (UI login and the password grant)."""

    async def blocked(self, username: str, address: str) -> bool: ...

    async def failed(self, username: str, address: str) -> None: ...

    async def succeeded(self, username: str, address: str) -> None: ...


class BackChannelLogoutService(Protocol):
    """OpenID Connect Back-Channel Logout 1.0 notifications (Duende ``IBackChannelLogoutService``)."""

    async def send_logout_notifications(
        self, subject_id: str, session_id: str | None, clients: list[Client], issuer: str
    ) -> None:
        """Start delivery to every client with a back-channel URI and return at once."""
        ...

    async def drain(self) -> None:
        """Wait for deliveries in flight (tests and shutdown)."""
        ...


@runtime_checkable
class QueuedBackChannelLogoutService(Protocol):
    """A back-channel logout service that retries queued deliveries: the host runs ``run_delivery`` as a
    background job in every process (the default service does)."""

    async def run_delivery(self) -> None:
        """Deliver due deliveries now and then periodically, until cancelled."""
        ...


class SessionCoordinationService(Protocol):
    """Ties tokens to the user's session (Duende ``ISessionCoordinationService``)."""

    backchannel: BackChannelLogoutService

    async def process_logout(
        self, subject_id: str, session_id: str | None, clients: list[Client], issuer: str, reason: str = "user_logout"
    ) -> None: ...

    async def process_expiration(
        self, subject_id: str, session_id: str | None, clients: list[Client], issuer: str
    ) -> None: ...

    async def validate_session(self, subject_id: str, session_id: str | None, client: Client) -> bool:
        """For a coordinated client: the session must still exist."""
        ...


class SessionManagementService(Protocol):
    """Queries and ends server-side sessions (Duende ``ISessionManagementService``)."""

    async def query_sessions(self, query: SessionQuery) -> tuple[QueryResult, list[UserSession]]: ...

    async def describe(self, session: ServerSideSession) -> UserSession: ...

    async def remove_sessions(self, context: RemoveSessionsContext, issuer: str) -> int: ...

    async def remove_expired_sessions(self, batch_size: int, default_issuer: str | None) -> int: ...


class HttpClientFactory(Protocol):
    """Makes the HTTP client for outgoing calls (back-channel logout); tests register one with a transport."""

    def __call__(self) -> httpx.AsyncClient: ...
