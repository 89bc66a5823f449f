"""Password-guessing throttle shared by every server process (Duende leaves this to the host; RFC 6749 §4.3.2
and §10.10 ask for rate limits). Failures are rows in the persisted-grant store, so every worker and node
sharing the database sees the same counts; only hashes of the username and address are stored.

Limits, per window: ``per_pair`` failures for one username from one address, and ``per_account`` failures for
one username from all addresses together (a botnet or an IPv6 /64 gets no more guesses than one machine)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from identityserver.clock import Clock
from identityserver.models.grants import PersistedGrant, PersistedGrantFilter
from identityserver.stores.protocols import PersistedGrantStore

LOGIN_FAILURE = "login_failure"


def _digest(prefix: str, value: str) -> str:
    return prefix + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]


class DefaultLoginThrottle:
    """The default ``LoginThrottle``: failures per username and address (``per_pair``) and per username
    (``per_account``) within ``window`` seconds, kept as persisted grants so every process sees them."""

    def __init__(
        self, grants: PersistedGrantStore, clock: Clock, window: int = 300, per_pair: int = 5, per_account: int = 20
    ) -> None:
        self.grants = grants
        self.clock = clock
        self.window = window
        self.per_pair = per_pair
        self.per_account = per_account

    @staticmethod
    def _keys(username: str, address: str) -> tuple[str, str]:
        return _digest("login:", username.lower()), _digest("addr:", address)

    async def blocked(self, username: str, address: str) -> bool:
        """Whether this username may not try again from this address yet."""
        account, origin = self._keys(username, address)
        now = self.clock.utc_now()
        rows = await self.grants.get_all(PersistedGrantFilter(subject_id=account, type=LOGIN_FAILURE))
        live = [r for r in rows if r.expiration is None or r.expiration > now]
        pair = sum(1 for r in live if r.client_id == origin)
        return pair >= self.per_pair or len(live) >= self.per_account

    async def failed(self, username: str, address: str) -> None:
        """Record a failed attempt (hashes of the username and address only)."""
        account, origin = self._keys(username, address)
        now = self.clock.utc_now()
        await self.grants.store(
            PersistedGrant(
                key=secrets.token_hex(32).upper(),
                type=LOGIN_FAILURE,
                client_id=origin,
                subject_id=account,
                creation_time=now,
                expiration=now + timedelta(seconds=self.window),
                data="{}",
            )
        )

    async def succeeded(self, username: str, address: str) -> None:
        """Forget this address's failures for the username."""
        account, origin = self._keys(username, address)
        await self.grants.remove_all(PersistedGrantFilter(subject_id=account, client_id=origin, type=LOGIN_FAILURE))
