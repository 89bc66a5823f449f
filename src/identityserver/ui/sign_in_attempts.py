"""A rendered sign-in form signs in once (security.md R9): a double-click on "Sign in" sends the form twice, and
the browser keeps the answer to the second. Each rendering of the form carries a sealed attempt (a random
nonce, readable for the ``MessageStore``'s lifetime); the session a correct submission opens is named by keys
derived from that nonce and the user. The first submission of an attempt, claimed in the shared
``ReplayCache`` so that every process agrees on it, opens the session; a later one, on any process, answers
with the same session (``UserSessionService.join``) instead of opening a second.

A later submission never re-opens a session that has ended (signed out, or expired): it finds nothing to
join and opens a fresh one under random keys. So a session key never comes back to life, and a cookie
captured before a sign-out stays useless.

The second factor's page and the account-creation form carry attempts too: there the later submission's code was
spent, or its username taken, by the first, so it can only join (:meth:`SignInAttempts.claimed`,
:meth:`SignInAttempts.join`), never open."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import logging
import secrets

from starlette.datastructures import FormData

from identityserver.services.protocols import MessageStore, UserSessionService
from identityserver.services.user_session import SessionTicket
from identityserver.stores.protocols import ReplayCache
from identityserver.ui.forms import field

ATTEMPT_FIELD = "signInAttempt"
"""The hidden field of the login, second-factor and account-creation forms that carries the sealed attempt."""
LOGIN_FORM = "sign_in_attempt"
SECOND_FACTOR_FORM = "sign_in_attempt.second_factor"
CREATE_ACCOUNT_FORM = "sign_in_attempt.create_account"
"""The sealed message kinds of each form's attempts: an attempt rendered in one form is not read by another, so
a claim one form's submission made is never taken for another form's (the code page's joins ask for it)."""
_CLAIMED = "sign_in_attempt"
_ASKED = "sign_in_attempt_asked"
_NONCE_BYTES = 32
logger = logging.getLogger("identityserver.sign_in")


class SignInAttempts:
    def __init__(
        self,
        messages: MessageStore,
        replay: ReplayCache,
        session: UserSessionService,
        join_wait: float = 2.0,
        join_poll: float = 0.05,
        claim_delay: float = 0.2,
    ) -> None:
        self.messages = messages
        self.replay = replay
        self.session = session
        self.join_wait = join_wait
        """How long a later submission waits for the first to open its session (they run concurrently)."""
        self.join_poll = join_poll
        self.claim_delay = claim_delay
        """How long :meth:`claimed` waits before it asks: the first submission claims the attempt a few
        milliseconds after it spent the code that the asking one found spent, and an ask that came first would take
        the claim from it."""

    async def new(self, form: str = LOGIN_FORM) -> str:
        """The sealed attempt for one rendering of a sign-in form (``form``: its message kind)."""
        return await self.messages.write(form, {"n": secrets.token_hex(_NONCE_BYTES)})

    async def read(self, data: FormData, form: str = LOGIN_FORM) -> bytes | None:
        """The nonce of the attempt a submission of ``form`` carries, or ``None`` when it carries none, or one that
        is forged, expired or another form's."""
        sealed = await self.messages.read(form, field(data, ATTEMPT_FIELD, 16384) or None)
        nonce = sealed.get("n") if sealed is not None else None
        if not isinstance(nonce, str) or len(nonce) != 2 * _NONCE_BYTES:
            return None
        try:
            return bytes.fromhex(nonce)
        except ValueError:
            return None

    @staticmethod
    def ticket_id(attempt: bytes, subject_id: str) -> str:
        """The ``ticket_id`` of the session the attempt's submissions open (or join) for ``subject_id``."""
        return _derive(attempt, subject_id, b"ticket")[:32]

    @classmethod
    def opened(cls, attempt: bytes, ticket: SessionTicket, subject_id: str) -> bool:
        """Whether ``ticket`` is the session an earlier submission of this attempt opened for ``subject_id``."""
        expected = cls.ticket_id(attempt, subject_id)
        return ticket.subject_id == subject_id and hmac.compare_digest(ticket.ticket_id, expected)

    async def sign_in(self, attempt: bytes, ticket: SessionTicket, secure: bool, keep_session_id: bool) -> list[str]:
        """Open the session of ``ticket`` for the attempt's first correct submission, or join the session that
        submission opened; ``keep_session_id`` when ``ticket`` carries an existing ``sid`` (re-authentication)."""
        fresh = dataclasses.replace(ticket, amr=list(ticket.amr), client_ids=list(ticket.client_ids))
        self._name(attempt, ticket, keep_session_id)
        # the claim outlives the attempt (readable for messages.lifetime from its rendering), so no submission of
        # it can ever be taken for a first one again and re-open an ended session's key
        try:
            first = await self._claim(attempt, ticket.subject_id)
        except Exception:
            # the claim only lets a second submission join the first (Redis unreachable, say): sign in without it,
            # under random keys, as a form without an attempt does
            logger.exception("could not claim the sign-in attempt; signing in without it")
            return await self.session.sign_in(fresh, secure)
        if first:
            return await self.session.sign_in(ticket, secure)
        cookies = await self._wait_for(ticket, secure)
        if cookies is not None:
            return cookies
        # the first submission failed, or its session has ended since: open another, under none of its keys
        return await self.session.sign_in(fresh, secure)

    async def claimed(self, attempt: bytes, subject_id: str) -> bool:
        """Whether a correct submission of the attempt has signed ``subject_id`` in (or is signing in), for a later
        submission whose own proof is spent (a one-time code the first used, an account the first made). The
        ``ReplayCache`` can only add, so asking adds too: first a mark that this attempt was asked about, then the
        claim itself. Only the first asker may take a taken claim for proof: a later one cannot tell the first
        submission's claim from one an earlier asker made (a replay of a spent code on a form of its own would
        otherwise pass on its second try). An asker that finds the claim free has taken it: the attempt's first
        correct submission, if one is still to come, then joins instead of opening, which ends the same way
        (``claim_delay`` keeps that rare). ``False`` when the ``ReplayCache`` cannot be reached."""
        await asyncio.sleep(self.claim_delay)
        try:
            if not await self.replay.add(_ASKED, _derive(attempt, subject_id, b"asked"), self._marks_lifetime):
                return False
            return not await self._claim(attempt, subject_id)
        except Exception:
            logger.exception("could not read the sign-in attempt's claim; not joining its session")
            return False

    async def join(
        self, attempt: bytes, ticket: SessionTicket, secure: bool, keep_session_id: bool
    ) -> list[str] | None:
        """The session the attempt's first submission opened for ``ticket``'s user, opening none; ``None`` when it
        is not open (it failed, or has ended since). Only for a submission the attempt is :meth:`claimed` for."""
        self._name(attempt, ticket, keep_session_id)
        return await self._wait_for(ticket, secure)

    def _name(self, attempt: bytes, ticket: SessionTicket, keep_session_id: bool) -> None:
        """Name ``ticket``'s session by the attempt's keys for its user."""
        if not keep_session_id:
            ticket.session_id = _derive(attempt, ticket.subject_id, b"sid")[:32]
        ticket.ticket_id = self.ticket_id(attempt, ticket.subject_id)
        ticket.key = _derive(attempt, ticket.subject_id, b"key")

    async def _claim(self, attempt: bytes, subject_id: str) -> bool:
        return await self.replay.add(_CLAIMED, _derive(attempt, subject_id, b"claim"), self._marks_lifetime)

    @property
    def _marks_lifetime(self) -> int:
        """The claim and the "asked" mark outlive the attempt (readable for ``messages.lifetime``)."""
        return self.messages.lifetime + 60

    async def _wait_for(self, ticket: SessionTicket, secure: bool) -> list[str] | None:
        """``join`` of the session ``ticket`` names, waiting up to ``join_wait`` for a concurrent first submission
        to open it."""
        waited = 0.0
        while (cookies := await self.session.join(ticket, secure)) is None and waited < self.join_wait:
            await asyncio.sleep(self.join_poll)
            waited += self.join_poll
        return cookies


def _derive(attempt: bytes, subject_id: str, label: bytes) -> str:
    """A key of the attempt's session for this user: HMAC-SHA-256 keyed by the attempt's secret nonce."""
    return hmac.new(attempt, label + b"\0" + subject_id.encode("utf-8"), hashlib.sha256).hexdigest().upper()
