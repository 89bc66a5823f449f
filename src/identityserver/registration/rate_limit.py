"""The rate limit of open registration (issue 16 item 1): at most ``open_registration_limit`` registrations per
client address in each window of ``open_registration_window`` seconds, counted in the ``ReplayCache`` so that
every process (and every server sharing the database) shares the count. Each registration takes the first
free slot of its address's window; when none is free the request is refused."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.crypto.hashing import sha256_b64url
from identityserver.stores.protocols import ReplayCache

PURPOSE = "registration_rate"


class OpenRegistrationRateLimiter:
    def __init__(self, cache: ReplayCache, clock: Clock, limit: int, window: int) -> None:
        self.cache = cache
        self.clock = clock
        self.limit = limit
        self.window = window

    def retry_after(self) -> int:
        """Seconds until the current window ends."""
        now = self.clock.timestamp()
        return max(1, int(self.window - now % self.window))

    async def allow(self, address: str | None) -> bool:
        """Record one registration from ``address``; ``False`` when its window is full (limit 0: no limit)."""
        if self.limit <= 0:
            return True
        now = self.clock.timestamp()
        window = int(now // self.window)
        lifetime = (window + 1) * self.window - now
        source = sha256_b64url(address or "unknown")
        for slot in range(self.limit):
            if await self.cache.add(PURPOSE, f"{source}.{window}.{slot}", lifetime):
                return True
        return False
