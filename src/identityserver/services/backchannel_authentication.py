"""CIBA services (OpenID Connect CIBA Core 1.0; Duende ``IBackchannelAuthenticationUserValidator``,
``IBackchannelAuthenticationUserNotificationService``, ``IBackchannelAuthenticationInteractionService``).

The user validator finds the user a request names; the notification service tells the user (the default logs it,
and the shipped UI lists the request on ``/ciba``); the interaction service is how a page, a push-notification
back end or an SMS gateway records the user's decision, which pings the client when it uses ping mode."""

from __future__ import annotations

import hmac
import logging
from typing import Protocol

from identityserver.clock import Clock
from identityserver.constants import BackchannelAuthenticationErrors, StandardScopes
from identityserver.models.backchannel_authentication import (
    BackChannelAuthenticationRequest,
    BackchannelAuthenticationUserValidationResult,
    BackchannelAuthenticationUserValidatorContext,
    BackchannelUserLoginRequest,
    CompleteBackchannelLoginRequest,
)
from identityserver.models.claims import Claim, Principal
from identityserver.models.client import Client
from identityserver.models.users import TestUser
from identityserver.stores.backchannel_authentication import BackChannelAuthenticationRequestStore
from identityserver.stores.protocols import ClientStore, ReplayCache, UserStore

logger = logging.getLogger("identityserver.ciba")

#: ReplayCache purpose that makes a request's decision once-only across every process.
DECISION_PURPOSE = "identityserver.ciba.decision"
#: The user claim the default validator compares ``user_code`` with (CIBA Core §7.1 ``user_code``).
USER_CODE_CLAIM = "user_code"
PING_MODE = "ping"
POLL_MODE = "poll"


class BackchannelAuthenticationUserValidator(Protocol):
    """Finds the user a CIBA request is for (Duende ``IBackchannelAuthenticationUserValidator``)."""

    async def validate_request(
        self, context: BackchannelAuthenticationUserValidatorContext
    ) -> BackchannelAuthenticationUserValidationResult:
        """Find the user the request's hint names (CIBA Core §7.1), or return an error."""


class BackchannelAuthenticationUserNotificationService(Protocol):
    """Tells the user that a client asks them to authenticate (Duende
    ``IBackchannelAuthenticationUserNotificationService``)."""

    async def send_login_request(self, request: BackchannelUserLoginRequest) -> None:
        """Tell the user that a client asks them to authenticate (CIBA Core §7.3)."""


class BackchannelClientNotificationService(Protocol):
    """Sends the ping callback (CIBA Core §10.2) in the background, retried with backoff."""

    async def send_ping(self, client: Client, auth_req_id: str, client_notification_token: str) -> None:
        """Start delivering and return at once."""
        ...

    async def drain(self) -> None:
        """Wait for the deliveries in flight (tests and shutdown)."""
        ...


class BackchannelAuthenticationInteractionService(Protocol):
    """What a UI or another channel calls to show and decide CIBA requests (Duende
    ``IBackchannelAuthenticationInteractionService``)."""

    async def get_pending_login_requests_for_user(self, subject_id: str) -> list[BackchannelUserLoginRequest]:
        """The user's undecided, unexpired requests, oldest first."""

    async def get_login_request_by_internal_id(self, internal_id: str) -> BackchannelUserLoginRequest | None:
        """The request, or ``None`` when unknown or expired."""

    async def complete_login_request(self, completion: CompleteBackchannelLoginRequest) -> bool:
        """Record the user's decision; ``False`` when the request is unknown, expired, already decided or not
        this user's (nothing changes then)."""
        ...


class DefaultBackchannelAuthenticationUserValidator:
    """Resolves ``login_hint`` to a user of the user store by username, then by subject id, and an
    ``id_token_hint`` this server issued to its ``sub``. ``login_hint_token`` needs a validator of your own (its
    format is not standardised). A ``user_code`` must equal the user's ``user_code`` claim."""

    def __init__(self, users: UserStore | None) -> None:
        self.users = users

    async def validate_request(
        self, context: BackchannelAuthenticationUserValidatorContext
    ) -> BackchannelAuthenticationUserValidationResult:
        user: TestUser | None = None
        if context.login_hint is not None and self.users is not None:
            user = await self.users.find_by_username(context.login_hint)
            if user is None:
                user = await self.users.find_by_subject_id(context.login_hint)
        elif context.id_token_hint_claims is not None:
            subject = context.id_token_hint_claims.get("sub")
            if isinstance(subject, str):
                if self.users is None:
                    return BackchannelAuthenticationUserValidationResult(Principal([Claim("sub", subject)]))
                user = await self.users.find_by_subject_id(subject)
        elif context.login_hint_token is not None:
            return _unknown_user("login_hint_token is not supported by this server")
        if user is None or not user.is_active:
            return _unknown_user("the hint does not identify a known user")
        if context.user_code is not None:
            expected = next((c.value for c in user.claims if c.type == USER_CODE_CLAIM), None)
            # the user_code is a secret the user knows (CIBA Core §7.1): compared in constant time
            if expected is None or not hmac.compare_digest(
                expected.encode("utf-8", "surrogatepass"), context.user_code.encode("utf-8", "surrogatepass")
            ):
                return BackchannelAuthenticationUserValidationResult(
                    error=BackchannelAuthenticationErrors.INVALID_USER_CODE, error_description="user_code is wrong"
                )
        return BackchannelAuthenticationUserValidationResult(Principal([Claim("sub", user.subject_id)]))


def _unknown_user(description: str) -> BackchannelAuthenticationUserValidationResult:
    return BackchannelAuthenticationUserValidationResult(
        error=BackchannelAuthenticationErrors.UNKNOWN_USER_ID, error_description=description
    )


class LoggingBackchannelAuthenticationUserNotificationService:
    """Logs the request; the shipped UI shows it to the signed-in user on ``/ciba``. Register your own to send a
    push notification, an e-mail or an SMS."""

    async def send_login_request(self, request: BackchannelUserLoginRequest) -> None:
        logger.info(
            "backchannel authentication request %s from client %s for user %s: %s",
            request.internal_id[:12],
            request.client.client_id,
            request.subject.subject_id,
            request.binding_message or "(no binding message)",
        )


class DefaultBackchannelAuthenticationInteractionService:
    """The default ``BackchannelAuthenticationInteractionService`` over the request store."""

    def __init__(
        self,
        requests: BackChannelAuthenticationRequestStore,
        clients: ClientStore,
        replay: ReplayCache,
        clock: Clock,
        notifications: BackchannelClientNotificationService,
    ) -> None:
        self.requests = requests
        self.clients = clients
        self.replay = replay
        self.clock = clock
        self.notifications = notifications

    async def get_pending_login_requests_for_user(self, subject_id: str) -> list[BackchannelUserLoginRequest]:
        found = []
        for request in await self.requests.get_logins_for_user(subject_id):
            login = await self._login_request(request)
            if login is not None:
                found.append(login)
        return found

    async def get_login_request_by_internal_id(self, internal_id: str) -> BackchannelUserLoginRequest | None:
        request = await self.requests.get_by_internal_id(internal_id)
        if request is None or request.is_complete or request.expires_at <= self.clock.timestamp():
            return None
        return await self._login_request(request)

    async def complete_login_request(self, completion: CompleteBackchannelLoginRequest) -> bool:
        request = await self.requests.get_by_internal_id(completion.internal_id)
        if (
            request is None
            or request.is_complete
            or request.expires_at <= self.clock.timestamp()
            or request.subject.subject_id != completion.subject.subject_id
        ):
            return False
        lifetime = max(request.expires_at - self.clock.timestamp(), 1)
        if not await self.replay.add(DECISION_PURPOSE, completion.internal_id, lifetime):
            return False  # decided concurrently (another tab, another channel)
        granted = [s for s in request.requested_scopes if s in completion.scopes_consented]
        if granted and StandardScopes.OPENID not in granted:
            granted.insert(0, StandardScopes.OPENID)  # CIBA is OpenID only (CIBA Core §7.1 scope)
        request.is_complete = True
        request.authorized_scopes = granted
        request.subject = completion.subject
        request.session_id = completion.session_id or completion.subject.session_id
        request.description = completion.description
        await self.requests.update_by_internal_id(completion.internal_id, request)
        await self._ping(request)
        return True

    async def _ping(self, request: BackChannelAuthenticationRequest) -> None:
        """CIBA Core §10.2: a ping client learns that the result is ready (approved or denied) and then polls."""
        if request.client_notification_token is None or request.ping_authentication_request_id is None:
            return
        client = await self.clients.find_client_by_id(request.client_id)
        if client is None or client.backchannel_token_delivery_mode != PING_MODE:
            return
        await self.notifications.send_ping(
            client, request.ping_authentication_request_id, request.client_notification_token
        )

    async def _login_request(self, request: BackChannelAuthenticationRequest) -> BackchannelUserLoginRequest | None:
        client = await self.clients.find_client_by_id(request.client_id)
        if client is None or not client.enabled:
            return None
        return login_request(request, client)


def login_request(request: BackChannelAuthenticationRequest, client: Client) -> BackchannelUserLoginRequest:
    """What the user is shown about a stored request."""
    return BackchannelUserLoginRequest(
        internal_id=request.internal_id,
        client=client,
        subject=request.subject,
        requested_scopes=list(request.requested_scopes),
        binding_message=request.binding_message,
        authentication_context_reference_classes=list(request.authentication_context_reference_classes),
        requested_resource_indicators=list(request.requested_resource_indicators),
        tenant=request.tenant,
        idp=request.idp,
        expires_at=request.expires_at,
    )
