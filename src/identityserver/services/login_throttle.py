"""Password-guessing throttle shared by every server process (Duende leaves this to the host; RFC 6749 §4.3.2
and §10.10 ask for rate limits). Failures are rows in the persisted-grant store, so every worker and node
sharing the database sees the same counts; only hashes of the username and address are stored.

Two limits, per ``window``: ``per_address`` failures for one username from one address refuse that address
(it is the guesser's own), while failures for one username from all addresses together only slow every attempt
for it down (a growing delay up to ``max_delay``): anyone can produce those, so refusing on them would let
anyone lock any account out (issue 16 item 2), and a correct password from another address still signs in."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta

from identityserver.clock import Clock
from identityserver.models.grants import PersistedGrant, PersistedGrantFilter
from identityserver.options import LoginThrottleOptions
from identityserver.stores.protocols import PersistedGrantStore

LOGIN_FAILURE = "login_failure"
#: Attempts in flight remembered per process before the map is reset (a caller that never reports back).
MAX_PENDING = 10_000


def _digest(prefix: str, value: str) -> str:
    return prefix + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def _origin(address: str) -> str:
    """The unit an address limit counts: the address, or its /64 for IPv6 (one subscriber's usual allocation,
    RFC 6177; counting single IPv6 addresses would give one machine 2^64 times the guesses)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip.ipv4_mapped or ip) if isinstance(ip, ipaddress.IPv6Address) else str(ip)


class DefaultLoginThrottle:
    """The default ``LoginThrottle``: kept as persisted grants of type ``login_failure`` so every process sees
    them; expired rows are removed by :meth:`remove_expired` (a background job) and on each failure."""

    def __init__(
        self,
        grants: PersistedGrantStore,
        clock: Clock,
        options: LoginThrottleOptions | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.grants = grants
        self.clock = clock
        self.options = options or LoginThrottleOptions()
        self.sleep = sleep
        self._pending: dict[tuple[str, str], list[str]] = {}
        """Rows :meth:`blocked` recorded for attempts still being checked, by ``(account, origin)``."""

    @staticmethod
    def _keys(username: str, address: str) -> tuple[str, str]:
        return _digest("login:", username.lower()), _digest("addr:", _origin(address))

    async def _live(self, account: str) -> list[PersistedGrant]:
        now = self.clock.utc_now()
        rows = await self.grants.get_all(PersistedGrantFilter(subject_id=account, type=LOGIN_FAILURE))
        return [r for r in rows if r.expiration is None or r.expiration > now]

    def delay_for(self, account_failures: int) -> float:
        """Seconds an attempt waits after ``account_failures`` failures for its username from all addresses."""
        over = account_failures - self.options.per_account
        if over < 0:
            return 0.0
        return min(self.options.max_delay, self.options.delay * float(2 ** min(over, 32)))

    async def blocked(self, username: str, address: str) -> bool:
        """Whether this username may not try again from this address yet. Waits first when the username has
        many failures from all addresses together (a slow-down that never refuses).

        The attempt is recorded as a failure before the count, and :meth:`failed` keeps that row: checking first
        and recording after the password check would let any number of parallel guesses pass the check."""
        account, origin = self._keys(username, address)
        key = await self._record(account, origin)
        live = await self._live(account)
        if sum(1 for r in live if r.client_id == origin) > self.options.per_address:
            await self.grants.remove(key)  # a refused attempt checked no password: it is not a guess
            return True
        if len(self._pending) > MAX_PENDING:
            self._pending.clear()  # attempts whose caller never reported back: their rows still count
        self._pending.setdefault((account, origin), []).append(key)
        delay = self.delay_for(len(live) - 1)
        if delay > 0:
            await self.sleep(delay)
        return False

    async def _record(self, account: str, origin: str) -> str:
        now = self.clock.utc_now()
        key = secrets.token_hex(32).upper()
        await self.grants.store(
            PersistedGrant(
                key=key,
                type=LOGIN_FAILURE,
                client_id=origin,
                subject_id=account,
                creation_time=now,
                expiration=now + timedelta(seconds=self.options.window),
                data="{}",
            )
        )
        return key

    async def failed(self, username: str, address: str) -> None:
        """Record a failed attempt (hashes of the username and address only; the row :meth:`blocked` recorded
        for it when there is one); the username's expired rows go."""
        account, origin = self._keys(username, address)
        now = self.clock.utc_now()
        rows = await self.grants.get_all(PersistedGrantFilter(subject_id=account, type=LOGIN_FAILURE))
        for row in rows:
            if row.expiration is not None and row.expiration <= now:
                await self.grants.remove(row.key)
        pending = self._pending.get((account, origin))
        if pending:
            pending.pop()
            if not pending:
                del self._pending[(account, origin)]
            return
        await self._record(account, origin)

    async def succeeded(self, username: str, address: str) -> None:
        """Forget this address's failures for the username."""
        account, origin = self._keys(username, address)
        pending = self._pending.get((account, origin))
        if pending:
            pending.pop()
            if not pending:
                del self._pending[(account, origin)]
        await self.grants.remove_all(PersistedGrantFilter(subject_id=account, client_id=origin, type=LOGIN_FAILURE))

    async def remove_expired(self) -> int:
        """Remove every expired throttle row; the number removed. Runs whether or not token cleanup is on."""
        now = self.clock.utc_now()
        removed = 0
        for row in await self.grants.get_all(PersistedGrantFilter(type=LOGIN_FAILURE)):
            if row.expiration is not None and row.expiration <= now:
                await self.grants.remove(row.key)
                removed += 1
        return removed
