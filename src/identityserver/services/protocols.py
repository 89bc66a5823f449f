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
    """Receives the events that are switched on (Duende ``IEventSink``): log, queue or store them."""

    async def persist(self, event: Event) -> None:
        """Handle one event (log, queue or store it)."""


class ProfileService(Protocol):
    """The user's claims and whether the user may still get tokens (Duende ``IProfileService``)."""

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

    async def get_all_signing_credentials(self) -> list[KeyContainer]:
        """The current signing key of each configured algorithm."""

    async def get_validation_keys(self) -> list[KeyContainer]:
        """Every key that is not retired (what JWKS publishes)."""

    async def verify_issued_jws(self, jws: DecodedJws) -> bool:
        """Whether one of our validation keys (matched by ``kid`` and ``alg``) signed ``jws``."""
        ...

    async def get_json_web_keys(self) -> list[dict[str, Any]]:
        """Public JWKs of every non-retired key (the JWKS document)."""
        ...


class TokenCreationService(Protocol):
    """Serializes and signs tokens as JWTs (Duende ``ITokenCreationService``)."""

    async def create_token(self, token: Token) -> str:
        """Serialize and sign a token as a JWT."""
        ...

    async def signing_algorithm(self, allowed: list[str] | None) -> str:
        """The algorithm a token limited to ``allowed`` (any when empty) will be signed with."""
        ...


class CorsPolicyService(Protocol):
    """Decides which browser origins may call the protocol endpoints (Duende ``ICorsPolicyService``)."""

    async def is_origin_allowed(self, origin: str) -> bool:
        """Whether a browser at ``origin`` may call the protocol endpoints."""


class ReturnUrlParser(Protocol):
    """Reads the authorize request behind a login/consent ``returnUrl`` (Duende ``IReturnUrlParser``)."""

    async def parse(self, return_url: str | None, issuer: str) -> AuthorizationRequest | None:
        """The validated request, or ``None`` when the URL is not a pending authorize request of this server."""
        ...


class EventService(Protocol):
    """Raises events to the sink when their type is switched on (Duende ``IEventService``)."""

    def can_raise(self, event_type: EventTypes) -> bool:
        """Whether events of this type are switched on in ``EventsOptions``."""

    async def raise_event(self, event: Event, remote_ip: str | None = None) -> None:
        """Stamp the event (time, process, ``remote_ip``) and send it to the sink if its type is on."""


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

    def create_protector(self, purpose: str) -> DataProtector:
        """A protector bound to ``purpose``: what it seals only the same purpose opens."""

    async def initialize(self) -> None:
        """Load the key ring at start-up, creating a key when none is usable."""


class TokenService(Protocol):
    """Creates access and identity tokens and serializes them (Duende ``ITokenService``)."""

    creation: TokenCreationService
    reference_tokens: ReferenceTokenStore

    async def create_access_token(self, request: TokenCreationRequest) -> Token:
        """The access token of a request: claims, audiences, lifetime, ``cnf`` (RFC 9068 §2)."""

    async def create_identity_token(self, request: TokenCreationRequest) -> Token:
        """The ID token of a request (OIDC Core §2): the user's claims, ``nonce``, hashes."""

    async def create_security_token(self, token: Token) -> str:
        """A signed JWT, or the handle of a stored reference token."""
        ...


class RefreshTokenService(Protocol):
    """Refresh tokens: creation, validation, rotation and family revocation (Duende ``IRefreshTokenService``)."""

    store: RefreshTokenStore

    def initial_lifetime(self, client: Client) -> int:
        """Seconds a new refresh token of ``client`` lives (absolute, or sliding)."""

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
    ) -> str:
        """Store a refresh token for the grant (a new family unless ``family_id``) and return its handle."""

    async def validate_refresh_token(
        self, handle: str, client: Client, detect_reuse: bool = True
    ) -> RefreshTokenValidationResult:
        """The stored token when valid for ``client``; with ``detect_reuse``, presenting a used token revokes its
        family (RFC 9700 §4.14.2)."""

    async def rotate(self, handle: str, token: RefreshToken, client: Client, access_token: Token) -> str | None:
        """The successor's handle; ``None`` when another request claimed the presented token first."""
        ...

    async def update_refresh_token(self, handle: str, token: RefreshToken, client: Client, access_token: Token) -> str:
        """Store the successor (one-time use) or the slid token (reuse); return the handle the client gets."""

    async def revoke_family(self, token: RefreshToken) -> None:
        """Revoke every token descended from the same original grant (RFC 9700 §4.14.2)."""
        ...

    async def revoke_family_by_id(
        self, subject_id: str, client_id: str, family_id: str, session_id: str | None
    ) -> None:
        """Revoke every token of the family (RFC 9700 §4.14.2)."""

    async def family_of_used_token(self, handle: str, client_id: str) -> tuple[str, str, str | None] | None:
        """``(subject_id, family_id, session_id)`` of a recently rotated-away token of this client."""
        ...

    async def remove_refresh_token(self, handle: str) -> None:
        """Delete the token (revocation, RFC 7009 §2.1)."""


class GrantRevocationService(Protocol):
    """Revokes what a grant issued: access tokens by ``jti`` and refresh-token families (RFC 9700 §4.14.2)."""

    async def revoke_jti(self, jti: str, expiration: int) -> None:
        """Refuse the JWT access token ``jti`` until ``expiration`` (epoch seconds)."""

    async def is_jti_revoked(self, jti: str) -> bool:
        """Whether the JWT access token with this ``jti`` was revoked."""

    async def revoke_access_tokens(self, token: RefreshToken) -> None:
        """Refuse the JWT access tokens issued with this refresh token and earlier in its family."""

    async def revoke_family(self, subject_id: str, client_id: str, family_id: str, session_id: str | None) -> None:
        """Delete the family's refresh tokens, refuse their access tokens and mark the family revoked."""

    async def is_family_revoked(self, family_id: str) -> bool:
        """Whether the family was revoked (its later refreshes are refused)."""


class AuthorizationCodeService(Protocol):
    """One-time authorization codes and what a replay revokes (RFC 6749 §4.1.2, §10.5)."""

    async def create(self, code: AuthorizationCode) -> str:
        """Store the code and return its handle."""

    def family_id(self, handle: str) -> str:
        """The refresh-token family of everything issued from this code."""
        ...

    async def redeem(self, handle: str) -> CodeRedemption:
        """Consume the code; a second presentation is a replay and revokes what the first one issued."""
        ...

    async def record_issued(self, handle: str, code: AuthorizationCode, issued: IssuedTokens) -> None:
        """Remember what the redemption issued, so that a replay can revoke it (RFC 6749 §4.1.2)."""

    async def revoke_jti(self, jti: str, expiration: int) -> None:
        """Refuse the JWT access token with this ``jti`` until ``expiration``."""

    async def is_jti_revoked(self, jti: str) -> bool:
        """Whether the JWT access token with this ``jti`` was revoked."""


class ConsentService(Protocol):
    """Remembered consent (Duende ``IConsentService``)."""

    async def require_consent(self, subject_id: str, client: Client, scopes: list[str]) -> bool:
        """Whether the user must be asked: the client requires consent and the scopes are not all remembered."""

    async def get_consent(self, subject_id: str, client_id: str) -> Consent | None:
        """The remembered consent of the user for the client, if any."""

    async def update_consent(self, subject_id: str, client: Client, scopes: list[str]) -> None:
        """Remember the consented scopes (forget them when empty), if the client allows it."""

    async def get_all_consents(self, subject_id: str) -> list[Consent]:
        """Every remembered consent of the user."""

    async def revoke_consent(self, subject_id: str, client_id: str) -> None:
        """Forget the consent and end the grants it allowed."""
        ...


class MessageStore(Protocol):
    """Short-lived protected messages between the engine and the UI (Duende ``IMessageStore<T>``)."""

    lifetime: int
    """Seconds a message stays readable."""

    async def write(self, kind: str, data: dict[str, Any]) -> str:
        """Seal ``data`` with its kind and expiry; return the message id."""

    async def read(self, kind: str, message_id: str | None) -> dict[str, Any] | None:
        """The message, or ``None`` when absent, forged, of another kind or expired."""
        ...


class UserSessionService(Protocol):
    """The signed-in user's session cookie (Duende ``IUserSession``)."""

    async def authenticate(self, cookies: dict[str, str]) -> SessionTicket | None:
        """The current session, or ``None`` when absent, tampered with, expired or ended."""

    def new_ticket(
        self,
        subject_id: str,
        amr: list[str],
        idp: str = "local",
        display_name: str | None = None,
        acr: str | None = None,
        issuer: str | None = None,
    ) -> SessionTicket:
        """A ticket for a fresh sign-in: a new ``sid`` and ``auth_time`` now."""

    async def sign_in(self, ticket: SessionTicket, secure: bool) -> list[str]:
        """Persist the session and return the ``Set-Cookie`` values; server-side under ``ticket.key`` when set
        (``ValueError`` if that key is taken), else under a new key."""
        ...

    async def join(self, ticket: SessionTicket, secure: bool) -> list[str] | None:
        """The ``Set-Cookie`` values of the live session ``ticket`` names (server-side: its ``key``), creating
        nothing; ``None`` when there is none (yet, or any more). A double-submitted sign-in answers with it."""
        ...

    async def update(self, ticket: SessionTicket, secure: bool) -> list[str]:
        """Save a changed ticket; return the ``Set-Cookie`` values."""

    async def add_client(self, ticket: SessionTicket, client_id: str, secure: bool) -> list[str]:
        """Record that the client received tokens in this session (for logout); return the ``Set-Cookie`` values."""

    async def sign_out(self, ticket: SessionTicket | None, secure: bool) -> list[str]:
        """End the session; return the ``Set-Cookie`` values that clear the cookies."""


@runtime_checkable
class SupersedingUserSessionService(Protocol):
    """What a ``UserSessionService`` that keeps sessions in the cookie adds so that a double-submitted
    re-authentication signs in once (docs/sessions.md): its later submission arrives with the cookie the first
    ended, and may only reuse that cookie's ``sid`` and clients when the first ended it for this form's session."""

    async def supersede(self, ticket: SessionTicket, successor: str) -> None:
        """End ``ticket``'s session, which a re-authentication replaces with the ticket whose id is ``successor``."""

    async def superseded(self, cookies: dict[str, str], successor: str) -> SessionTicket | None:
        """The browser's session when :meth:`supersede` ended it for ``successor``, else ``None``."""


class IdentityServerInteractionService(Protocol):
    """The UI's only door into the engine (Duende ``IIdentityServerInteractionService``)."""

    async def get_authorization_context(self, return_url: str | None, issuer: str) -> AuthorizationRequest | None:
        """The validated request behind a login or consent ``returnUrl``; ``None`` when it is not one."""

    def is_valid_return_url(self, return_url: str | None) -> bool:
        """True for the authorize callback URL of a pending request (local URLs only)."""

    async def grant_consent(
        self, request: AuthorizationRequest, response: ConsentResponse, subject_id: str, return_url: str
    ) -> str:
        """Record the user's answer; return the URL that resumes the request."""

    async def deny_authorization(
        self,
        request: AuthorizationRequest,
        error: AuthorizationError,
        return_url: str,
        subject_id: str | None = None,
        description: str | None = None,
    ) -> str:
        """Answer the client with ``error`` (e.g. ``access_denied``, OIDC Core §3.1.2.6); return the URL to go to."""

    async def read_consent_response(
        self, token: str | None, parameters: dict[str, str], resources: list[str], subject_id: str | None
    ) -> ConsentResponse | None:
        """The consent answer for exactly this request and user, else ``None`` (tampered, stale or foreign)."""

    async def create_error_id(self, message: ErrorMessage) -> str:
        """Seal an error message for the error page; return its id."""

    async def get_error_context(self, error_id: str | None) -> ErrorMessage | None:
        """The error message behind an id, or ``None``."""

    async def create_logout_id(self, message: LogoutMessage) -> str:
        """Seal a logout message for the logout pages; return its id."""

    async def get_logout_context(self, logout_id: str | None) -> LogoutMessage | None:
        """The logout message behind an id, or ``None``."""

    async def get_all_user_grants(self, subject_id: str) -> list[tuple[Consent, Client | None]]:
        """Every remembered consent of the user with its client (``None`` when the client is gone)."""

    async def revoke_user_consent(self, subject_id: str, client_id: str) -> None:
        """Revoke the user's consent for the client and what it allowed."""


class LogoutService(Protocol):
    """What happens when a user signs out: the clients to notify and the session-ended hooks."""

    async def session_clients(self, client_ids: list[str]) -> list[Client]:
        """The enabled clients among ``client_ids``."""

    def front_channel_logout_url(self, client: Client, issuer: str, session_id: str | None) -> str | None:
        """The client's front-channel logout URI, with ``iss`` and ``sid`` when it requires them (Front-Channel
        Logout 1.0 §2)."""

    async def signed_out(self, message: LogoutMessage, issuer: str) -> LogoutMessage:
        """Fill in the front-channel URLs and run the session-ended hooks (back-channel, token revocation)."""
        ...


class LoginThrottle(Protocol):
    """Slows password guessing per account and per address (UI login and the password grant)."""

    async def blocked(self, username: str, address: str) -> bool:
        """Whether this username may not try again from this address yet."""

    async def failed(self, username: str, address: str) -> None:
        """Record a failed attempt."""

    async def succeeded(self, username: str, address: str) -> None:
        """Forget this address's failures for the username."""


@runtime_checkable
class ExpiringRows(Protocol):
    """A service that keeps rows with an expiry in a shared store (the login throttle's failure counts): the host
    runs ``remove_expired`` on a schedule, once per deployment, whether or not token cleanup is on."""

    async def remove_expired(self) -> int:
        """Remove the expired rows; the number removed."""
        ...


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
    ) -> None:
        """On sign-out: revoke the coordinated clients' grants of the session and notify the clients."""

    async def process_expiration(
        self, subject_id: str, session_id: str | None, clients: list[Client], issuer: str
    ) -> None:
        """An expired server-side session: revoke coordinated grants and notify the clients as configured."""

    async def validate_session(self, subject_id: str, session_id: str | None, client: Client) -> bool:
        """For a coordinated client: the session must still exist."""
        ...


class SessionManagementService(Protocol):
    """Queries and ends server-side sessions (Duende ``ISessionManagementService``)."""

    async def query_sessions(self, query: SessionQuery) -> tuple[QueryResult, list[UserSession]]:
        """A page of sessions matching the query, described."""

    async def describe(self, session: ServerSideSession) -> UserSession:
        """The session as listed to administrators."""

    async def remove_sessions(self, context: RemoveSessionsContext, issuer: str) -> int:
        """End a user's sessions as ``context`` asks; return how many ended."""

    async def remove_expired_sessions(self, batch_size: int, default_issuer: str | None) -> int:
        """One cleanup pass over expired sessions; return how many went."""


class HttpClientFactory(Protocol):
    """Makes the HTTP client for outgoing calls (back-channel logout); tests register one with a transport."""

    def __call__(self) -> httpx.AsyncClient: ...
