"""In-memory ``ServerSideSessionStore`` (Duende ``InMemoryServerSideSessionStore``)."""

from __future__ import annotations

import copy
from datetime import datetime

from identityserver.models.sessions import QueryResult, ServerSideSession, SessionFilter, SessionQuery


def _prefix(value: str | None, wanted: str | None) -> bool:
    return not wanted or (value or "").lower().startswith(wanted.lower())


class InMemoryServerSideSessionStore:
    def __init__(self) -> None:
        self._sessions: dict[str, ServerSideSession] = {}

    async def get_session(self, key: str) -> ServerSideSession | None:
        session = self._sessions.get(key)
        return copy.copy(session) if session else None

    async def create_session(self, session: ServerSideSession) -> None:
        if session.key in self._sessions:
            raise ValueError("session key already exists")
        self._sessions[session.key] = copy.copy(session)

    async def update_session(self, session: ServerSideSession) -> None:
        if session.key in self._sessions:
            self._sessions[session.key] = copy.copy(session)

    async def delete_session(self, key: str) -> None:
        self._sessions.pop(key, None)

    async def get_sessions(self, session_filter: SessionFilter) -> list[ServerSideSession]:
        if session_filter.is_empty():
            raise ValueError("a session filter needs a subject id or a session id")
        return [copy.copy(s) for s in self._sessions.values() if session_filter.matches(s)]

    async def delete_sessions(self, session_filter: SessionFilter) -> None:
        if session_filter.is_empty():
            raise ValueError("a session filter needs a subject id or a session id")
        for key in [k for k, s in self._sessions.items() if session_filter.matches(s)]:
            del self._sessions[key]

    async def get_and_remove_expired_sessions(self, now: datetime, count: int) -> list[ServerSideSession]:
        expired = sorted(
            (s for s in self._sessions.values() if s.expires is not None and s.expires < now),
            key=lambda s: s.expires or now,
        )[:count]
        for session in expired:
            del self._sessions[session.key]
        return expired

    async def query_sessions(self, query: SessionQuery) -> QueryResult:
        matching = sorted(
            (
                s
                for s in self._sessions.values()
                if _prefix(s.subject_id, query.subject_id)
                and _prefix(s.session_id, query.session_id)
                and _prefix(s.display_name, query.display_name)
            ),
            key=lambda s: (s.created, s.key),
        )
        start, size = query.page_bounds()
        return QueryResult.page(query, [copy.copy(s) for s in matching[start : start + size]], len(matching))
