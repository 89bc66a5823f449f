"""The signed-in user's session (Duende ``DefaultUserSession`` + cookie handler; server-side sessions when a
``ServerSideSessionStore`` is registered).

The ``idsrv`` cookie carries either the protected session ticket itself or, with server-side sessions, the
protected key of the ticket in the store. ``idsrv.session`` carries the ``sid`` for the check-session
iframe (OIDC Session Management §3)."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from identityserver.clock import Clock
from identityserver.crypto.protection import DataProtectionError, DataProtector
from identityserver.models.claims import Claim, Principal
from identityserver.models.sessions import ServerSideSession
from identityserver.options import AuthenticationOptions, ServerSideSessionsOptions
from identityserver.services.ended_sessions import EndedSessions
from identityserver.stores.protocols import ServerSideSessionStore
from identityserver.telemetry import ACTIVE_SESSIONS

SESSION_COOKIE = "idsrv"
SCHEME = "idsrv"


@dataclass(slots=True)
class SessionTicket:
    """What a sign-in establishes; ``client_ids`` lists the clients that received tokens in this session."""

    subject_id: str
    session_id: str
    auth_time: int
    issued: int
    expires: int
    amr: list[str] = field(default_factory=lambda: ["pwd"])
    idp: str = "local"
    display_name: str | None = None
    acr: str | None = None
    client_ids: list[str] = field(default_factory=list)
    issuer: str | None = None
    """The issuer the session was established under (back-channel logout of expired sessions needs it)."""
    key: str | None = None
    """The server-side session key, when sessions are stored server-side."""
    ticket_id: str = ""
    """Names this sign-in's ticket (kept when the cookie is re-issued, new on re-authentication): logout puts it
    on the list of ended cookie sessions. Tickets from before it existed are listed by ``session_id``."""

    def principal(self) -> Principal:
        claims = [
            Claim("sub", self.subject_id),
            Claim("auth_time", str(self.auth_time), "integer"),
            Claim("idp", self.idp),
            Claim("sid", self.session_id),
        ]
        claims += [Claim("amr", method) for method in self.amr]
        if self.acr:
            claims.append(Claim("acr", self.acr))
        if self.display_name:
            claims.append(Claim("name", self.display_name))
        return Principal(claims)

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("key", None)
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> SessionTicket:
        data: dict[str, Any] = json.loads(text)
        return cls(**data)


def _cookie(
    name: str,
    value: str,
    *,
    path: str,
    secure: bool,
    http_only: bool = True,
    max_age: int | None = None,
    same_site: str | None = None,
) -> str:
    parts = [f"{name}={value}", f"Path={path}"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    # SameSite=None needs Secure; over plain http (the demo) Lax is the strongest value browsers accept
    parts.append(f"SameSite={same_site or ('None' if secure else 'Lax')}")
    return "; ".join(parts)


class DefaultUserSession:
    """The default ``UserSessionService`` (Duende ``DefaultUserSession`` with the cookie handler): the ``idsrv`` cookie
    carries the protected ticket, or its key in the server-side session store."""

    def __init__(
        self,
        protector: DataProtector,
        options: AuthenticationOptions,
        clock: Clock,
        store: ServerSideSessionStore | None = None,
        store_options: ServerSideSessionsOptions | None = None,
        ended: EndedSessions | None = None,
    ) -> None:
        self.ended = ended
        self.protector = protector
        self.options = options
        self.clock = clock
        self.store = store
        self.store_options = store_options or ServerSideSessionsOptions()

    async def authenticate(self, cookies: dict[str, str]) -> SessionTicket | None:
        """The current session, or ``None`` when absent, tampered with, expired or ended server-side."""
        if self.store is None:
            ticket = await self._cookie_ticket(cookies)
            if ticket is None:
                return None
            if self.ended is not None and await self.ended.is_ended(ticket.ticket_id or ticket.session_id):
                return None  # a cookie captured before logout (issue 16 item 5)
            return ticket
        raw = cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = await self.protector.unprotect(raw)
        except DataProtectionError:
            return None
        now = int(self.clock.timestamp())
        session = await self.store.get_session(data.decode("utf-8", "replace"))
        if session is None or (session.expires is not None and session.expires.timestamp() < now):
            return None
        try:
            ticket = SessionTicket.from_json(await self.protector.unprotect(session.ticket))
        except (DataProtectionError, ValueError, TypeError):
            return None
        ticket.key = session.key
        return None if ticket.expires < now else ticket

    async def _cookie_ticket(self, cookies: dict[str, str]) -> SessionTicket | None:
        """The unexpired ticket a cookie session's cookie carries, whether or not it has ended."""
        raw = cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            ticket = SessionTicket.from_json(await self.protector.unprotect(raw))
        except (DataProtectionError, ValueError, TypeError):
            return None
        return None if ticket.expires < int(self.clock.timestamp()) else ticket

    def new_ticket(
        self,
        subject_id: str,
        amr: list[str],
        idp: str = "local",
        display_name: str | None = None,
        acr: str | None = None,
        issuer: str | None = None,
    ) -> SessionTicket:
        """A ticket for a fresh sign-in: a new ``sid``, ``auth_time`` now, expiring after ``cookie_lifetime``."""
        now = int(self.clock.timestamp())
        return SessionTicket(
            subject_id,
            secrets.token_hex(16).upper(),
            now,
            now,
            now + self.options.cookie_lifetime,
            amr,
            idp,
            display_name,
            acr,
            issuer=issuer,
            ticket_id=secrets.token_hex(16).upper(),
        )

    async def sign_in(self, ticket: SessionTicket, secure: bool) -> list[str]:
        """Persist the session and return the ``Set-Cookie`` values. Server-side, the session is stored under
        ``ticket.key`` when the caller chose one (``ValueError`` if it is taken), else under a new random key."""
        if self.store is not None:
            key = ticket.key = ticket.key or secrets.token_hex(32).upper()
            await self.store.create_session(await self._server_side(ticket, key))
            value = await self.protector.protect(key.encode("ascii"))
        else:
            value = await self.protector.protect(ticket.to_json().encode("utf-8"))
        ACTIVE_SESSIONS.add(1)
        return self._cookies(value, ticket.session_id, ticket.expires - int(self.clock.timestamp()), secure)

    async def join(self, ticket: SessionTicket, secure: bool) -> list[str] | None:
        """The ``Set-Cookie`` values of the live session that ``ticket`` names, creating nothing: server-side the
        session stored under ``ticket.key`` for the same subject, else ``ticket`` itself unless its ``ticket_id``
        was ended. ``None`` when there is no such session (not yet, or no longer)."""
        now = int(self.clock.timestamp())
        if self.store is not None:
            session = await self.store.get_session(ticket.key) if ticket.key else None
            if session is None or session.subject_id != ticket.subject_id:
                return None
            expires = int(session.expires.timestamp()) if session.expires is not None else ticket.expires
            if expires < now:
                return None
            value = await self.protector.protect(session.key.encode("ascii"))
            return self._cookies(value, session.session_id or ticket.session_id, expires - now, secure)
        if self.ended is not None and await self.ended.is_ended(ticket.ticket_id):
            return None
        value = await self.protector.protect(ticket.to_json().encode("utf-8"))
        return self._cookies(value, ticket.session_id, ticket.expires - now, secure)

    def _cookies(self, value: str, session_id: str, max_age: int, secure: bool) -> list[str]:
        return [
            _cookie(SESSION_COOKIE, value, path="/", secure=secure, max_age=max_age),
            _cookie(
                self.options.check_session_cookie_name,
                session_id,
                path="/",
                secure=secure,
                http_only=False,
                max_age=max_age,
            ),
        ]

    async def update(self, ticket: SessionTicket, secure: bool) -> list[str]:
        """Save a changed ticket (e.g. a new client id). Server-side: update the row; else re-issue the cookie."""
        if self.store is not None and ticket.key:
            await self.store.update_session(await self._server_side(ticket, ticket.key))
            return []
        value = await self.protector.protect(ticket.to_json().encode("utf-8"))
        max_age = ticket.expires - int(self.clock.timestamp())
        return [_cookie(SESSION_COOKIE, value, path="/", secure=secure, max_age=max_age)]

    async def add_client(self, ticket: SessionTicket, client_id: str, secure: bool) -> list[str]:
        """Record that the client received tokens in this session (for logout); ``Set-Cookie`` values when the cookie
        changes."""
        if client_id in ticket.client_ids:
            return []
        ticket.client_ids.append(client_id)
        return await self.update(ticket, secure)

    async def sign_out(self, ticket: SessionTicket | None, secure: bool) -> list[str]:
        """Delete the server-side session and return the ``Set-Cookie`` values that clear both cookies."""
        if ticket is not None:
            await self._end(ticket, None)
        return [
            _cookie(SESSION_COOKIE, "", path="/", secure=secure, max_age=0),
            _cookie(self.options.check_session_cookie_name, "", path="/", secure=secure, http_only=False, max_age=0),
        ]

    async def supersede(self, ticket: SessionTicket, successor: str) -> None:
        """End the session that a re-authentication replaces with the ticket ``successor`` (its id); with cookie
        sessions the ended ticket names it, for :meth:`superseded`."""
        await self._end(ticket, successor)

    async def superseded(self, cookies: dict[str, str], successor: str) -> SessionTicket | None:
        """With cookie sessions, the unexpired ticket the browser's cookie carries when :meth:`supersede` ended it
        for ``successor``: a double-submitted re-authentication's later submission, sent with that cookie, joins
        the first's session under its ``sid`` and clients. A ticket that a logout ended is never returned, so it
        lends its ``sid`` to no later sign-in. ``None`` with server-side sessions: the joined row carries both."""
        if self.store is not None or self.ended is None:
            return None
        ticket = await self._cookie_ticket(cookies)
        if ticket is None:
            return None
        return ticket if await self.ended.replaced_by(ticket.ticket_id or ticket.session_id, successor) else None

    async def _end(self, ticket: SessionTicket, successor: str | None) -> None:
        if self.store is not None and ticket.key:
            await self.store.delete_session(ticket.key)
        elif self.ended is not None:
            # the browser is told to drop the cookie, but a copy would stay valid until it expires
            await self.ended.end(ticket.ticket_id or ticket.session_id, ticket.expires, successor)
        ACTIVE_SESSIONS.add(-1)

    async def _server_side(self, ticket: SessionTicket, key: str) -> ServerSideSession:
        return ServerSideSession(
            key=key,
            scheme=SCHEME,
            subject_id=ticket.subject_id,
            session_id=ticket.session_id,
            display_name=ticket.display_name,
            created=datetime.fromtimestamp(ticket.issued, UTC),
            renewed=self.clock.utc_now(),
            expires=datetime.fromtimestamp(ticket.expires, UTC),
            ticket=await self.protector.protect(ticket.to_json().encode("utf-8")),
        )
