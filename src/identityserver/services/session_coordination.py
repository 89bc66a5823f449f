"""Coordinating tokens with the user's session (Duende ``DefaultSessionCoordinationService``).

A client is coordinated when ``coordinate_lifetime_with_user_session`` is true (or the global option is on
and the client does not opt out). Its refresh tokens, and access tokens at userinfo and introspection, stop
working once the server-side session is gone, and using them slides the session."""

from __future__ import annotations

from datetime import timedelta

from identityserver.clock import Clock
from identityserver.constants import PersistedGrantTypes
from identityserver.models.client import Client
from identityserver.models.grants import PersistedGrantFilter
from identityserver.models.sessions import SessionFilter
from identityserver.options import IdentityServerOptions
from identityserver.services.protocols import BackChannelLogoutService
from identityserver.stores.protocols import PersistedGrantStore, ServerSideSessionStore

COORDINATED_GRANT_TYPES = [
    PersistedGrantTypes.REFRESH_TOKEN,
    PersistedGrantTypes.REFERENCE_TOKEN,
    PersistedGrantTypes.AUTHORIZATION_CODE,
    PersistedGrantTypes.BACKCHANNEL_AUTHENTICATION_REQUEST,
]


class DefaultSessionCoordinationService:
    """The default ``SessionCoordinationService``: on logout or session expiry, back-channel logout and revocation of
    the coordinated clients' grants; validates and slides the session for their tokens."""

    def __init__(
        self,
        options: IdentityServerOptions,
        grants: PersistedGrantStore,
        sessions: ServerSideSessionStore | None,
        backchannel: BackChannelLogoutService,
        clock: Clock,
    ) -> None:
        self.options = options
        self.grants = grants
        self.sessions = sessions
        self.backchannel = backchannel
        self.clock = clock

    def is_coordinated(self, client: Client) -> bool:
        """Whether the client's tokens follow the user's session (server-side sessions only)."""
        if self.sessions is None:
            return False
        if client.coordinate_lifetime_with_user_session is not None:
            return client.coordinate_lifetime_with_user_session
        return self.options.authentication.coordinate_client_lifetimes_with_user_session

    async def revoke_session_grants(self, subject_id: str, session_id: str | None, clients: list[Client]) -> None:
        """Remove the session's refresh and reference tokens of the coordinated clients."""
        ids = [c.client_id for c in clients if self.is_coordinated(c)]
        if ids and session_id:
            await self.grants.remove_all(
                PersistedGrantFilter(
                    subject_id=subject_id, session_id=session_id, client_ids=ids, types=COORDINATED_GRANT_TYPES
                )
            )

    async def process_logout(
        self, subject_id: str, session_id: str | None, clients: list[Client], issuer: str, reason: str = "user_logout"
    ) -> None:
        """On sign-out: revoke the coordinated clients' grants of this session; notify every client."""
        await self.revoke_session_grants(subject_id, session_id, clients)
        await self.backchannel.send_logout_notifications(subject_id, session_id, clients, issuer)

    async def process_expiration(
        self, subject_id: str, session_id: str | None, clients: list[Client], issuer: str
    ) -> None:
        """An expired session: revoke coordinated grants; notify every client when
        ``expired_sessions_trigger_backchannel_logout``, else only the coordinated ones."""
        await self.revoke_session_grants(subject_id, session_id, clients)
        targets = (
            clients
            if self.options.server_side_sessions.expired_sessions_trigger_backchannel_logout
            else [c for c in clients if self.is_coordinated(c)]
        )
        await self.backchannel.send_logout_notifications(subject_id, session_id, targets, issuer)

    async def validate_session(self, subject_id: str, session_id: str | None, client: Client) -> bool:
        """For a coordinated client: the session must still exist; it is slid by its original window."""
        if not self.is_coordinated(client) or self.sessions is None:
            return True
        if not session_id:
            return False
        found = await self.sessions.get_sessions(SessionFilter(subject_id=subject_id, session_id=session_id))
        now = self.clock.utc_now()
        live = [s for s in found if s.expires is None or s.expires > now]
        if not live:
            return False
        for session in live:
            if session.expires is not None:
                window = session.expires - session.renewed
                session.renewed = now
                session.expires = now + max(window, timedelta(seconds=1))
                await self.sessions.update_session(session)
        return True
