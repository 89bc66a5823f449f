"""Querying and ending user sessions (Duende ``ISessionManagementService``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from identityserver.clock import Clock
from identityserver.constants import PersistedGrantTypes
from identityserver.crypto.protection import DataProtectionError, DataProtector
from identityserver.models.grants import PersistedGrantFilter
from identityserver.models.sessions import QueryResult, ServerSideSession, SessionFilter, SessionQuery
from identityserver.services.protocols import LogoutService, SessionCoordinationService
from identityserver.stores.protocols import PersistedGrantStore, ServerSideSessionStore


@dataclass(slots=True)
class RemoveSessionsContext:
    subject_id: str
    session_id: str | None = None
    client_ids: list[str] | None = None
    remove_server_side_session: bool = True
    send_backchannel_logout_notification: bool = True
    revoke_tokens: bool = True
    revoke_consents: bool = True


@dataclass(slots=True)
class UserSession:
    """A session as listed to administrators."""

    key: str
    subject_id: str
    session_id: str | None
    display_name: str | None
    created: str
    renewed: str
    expires: str | None
    client_ids: list[str] = field(default_factory=list)


class DefaultSessionManagementService:
    """The default ``SessionManagementService`` (Duende ``SessionManagementService``) over the server-side session
    store."""

    def __init__(
        self,
        sessions: ServerSideSessionStore,
        grants: PersistedGrantStore,
        protector: DataProtector,
        logout: LogoutService,
        coordination: SessionCoordinationService,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.grants = grants
        self.protector = protector
        self.logout = logout
        self.coordination = coordination
        self.clock = clock

    async def ticket(self, session: ServerSideSession) -> dict[str, object]:
        """The session's ticket as a dict (empty when it cannot be read)."""
        try:
            ticket = json.loads(await self.protector.unprotect(session.ticket))
        except (DataProtectionError, ValueError):
            return {}
        return ticket if isinstance(ticket, dict) else {}

    async def client_ids(self, session: ServerSideSession) -> list[str]:
        """The clients that received tokens in the session."""
        return _ticket_client_ids(await self.ticket(session))

    async def describe(self, session: ServerSideSession) -> UserSession:
        """The session as listed to administrators."""
        return UserSession(
            session.key,
            session.subject_id,
            session.session_id,
            session.display_name,
            session.created.isoformat(),
            session.renewed.isoformat(),
            session.expires.isoformat() if session.expires else None,
            await self.client_ids(session),
        )

    async def query_sessions(self, query: SessionQuery) -> tuple[QueryResult, list[UserSession]]:
        """A page of sessions matching the query, described."""
        result = await self.sessions.query_sessions(query)
        return result, [await self.describe(s) for s in result.results]

    async def remove_sessions(self, context: RemoveSessionsContext, issuer: str) -> int:
        """End a user's sessions: notify their clients, revoke their tokens and consents as asked."""
        found = await self.sessions.get_sessions(SessionFilter(context.subject_id, context.session_id))
        client_ids: set[str] = set()
        for session in found:
            ids = await self.client_ids(session)
            client_ids.update(ids)
            if context.send_backchannel_logout_notification:
                clients = await self.logout.session_clients(
                    [i for i in ids if context.client_ids is None or i in context.client_ids]
                )
                await self.coordination.backchannel.send_logout_notifications(
                    session.subject_id, session.session_id, clients, issuer
                )
            if context.remove_server_side_session:
                await self.sessions.delete_session(session.key)
        if context.revoke_tokens:
            await self.grants.remove_all(
                PersistedGrantFilter(
                    subject_id=context.subject_id,
                    session_id=context.session_id,
                    client_ids=context.client_ids,
                    types=[
                        PersistedGrantTypes.REFRESH_TOKEN,
                        PersistedGrantTypes.REFERENCE_TOKEN,
                        PersistedGrantTypes.AUTHORIZATION_CODE,
                    ],
                )
            )
        if context.revoke_consents:  # consents belong to the user, not to one session
            await self.grants.remove_all(
                PersistedGrantFilter(
                    subject_id=context.subject_id, client_ids=context.client_ids, type=PersistedGrantTypes.USER_CONSENT
                )
            )
        return len(found)

    async def remove_expired_sessions(self, batch_size: int, default_issuer: str | None) -> int:
        """One cleanup pass: remove expired sessions in batches and process their expiration."""
        removed = 0
        while True:
            batch = await self.sessions.get_and_remove_expired_sessions(self.clock.utc_now(), batch_size)
            for session in batch:
                ticket = await self.ticket(session)
                issuer = ticket.get("issuer") or default_issuer
                clients = await self.logout.session_clients(_ticket_client_ids(ticket))
                if isinstance(issuer, str):
                    await self.coordination.process_expiration(session.subject_id, session.session_id, clients, issuer)
            removed += len(batch)
            if len(batch) < batch_size:
                return removed


def _ticket_client_ids(ticket: dict[str, object]) -> list[str]:
    ids = ticket.get("client_ids")
    return [str(i) for i in ids] if isinstance(ids, list) else []
