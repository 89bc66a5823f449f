"""The revocation list of ended cookie sessions (issue 16 item 5). A cookie session's ticket lives in the
browser, so a copy captured before logout would otherwise stay valid until it expires; logout records the
ticket's id as a persisted grant of type ``ended_session`` (shared through the database by every process, only a
hash of the id stored) until the ticket would have expired, and every use of a cookie checks the list.
Server-side sessions need none of this: logout deletes the row the cookie points to.

A re-authentication ends the browser's ticket too, and names the ticket that replaced it (a hash of its id): a
double-submitted re-authentication's later submission, sent with the ended cookie, may then join the session the
first opened under the old ``sid`` (``DefaultUserSession.superseded``). An ending by logout names none."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from identityserver.clock import Clock
from identityserver.models.grants import PersistedGrant, PersistedGrantFilter
from identityserver.stores.protocols import PersistedGrantStore

ENDED_SESSION = "ended_session"


def _key(ticket_id: str) -> str:
    return hashlib.sha256(f"{ENDED_SESSION}:{ticket_id}".encode()).hexdigest().upper()


def _successor(ticket_id: str) -> str:
    return hashlib.sha256(f"{ENDED_SESSION}.successor:{ticket_id}".encode()).hexdigest().upper()


class EndedSessions:
    def __init__(self, grants: PersistedGrantStore, clock: Clock) -> None:
        self.grants = grants
        self.clock = clock

    async def end(self, ticket_id: str, expires: int, successor: str | None = None) -> None:
        """Refuse the ticket from now until ``expires`` (its own expiry, seconds since the epoch); ``successor``: the
        id of the ticket a re-authentication replaced it with. The row names no subject, session or client, so that
        revoking a user's or a client's grants never removes it."""
        await self.grants.store(
            PersistedGrant(
                key=_key(ticket_id),
                type=ENDED_SESSION,
                client_id="",
                creation_time=self.clock.utc_now(),
                expiration=datetime.fromtimestamp(expires, UTC),
                data=json.dumps({"Successor": _successor(successor)}) if successor else "{}",
            )
        )

    async def is_ended(self, ticket_id: str) -> bool:
        return await self.grants.get(_key(ticket_id)) is not None

    async def replaced_by(self, ticket_id: str, successor: str) -> bool:
        """Whether the ticket was ended by a re-authentication that replaced it with the ticket ``successor``."""
        row = await self.grants.get(_key(ticket_id))
        if row is None:
            return False
        try:
            named = json.loads(row.data).get("Successor")
        except (ValueError, AttributeError):
            return False
        return isinstance(named, str) and hmac.compare_digest(named, _successor(successor))

    async def remove_expired(self) -> int:
        """Remove the entries whose tickets have expired anyway; the number removed."""
        now = self.clock.utc_now()
        removed = 0
        for row in await self.grants.get_all(PersistedGrantFilter(type=ENDED_SESSION)):
            if row.expiration is not None and row.expiration <= now:
                await self.grants.remove(row.key)
                removed += 1
        return removed
