"""In-memory ``ReplayCache`` (Duende ``DefaultReplayCache``), with an atomic check-and-insert.

For several server processes use the SQL or Redis implementation instead (``storage``)."""

from __future__ import annotations

from identityserver.clock import monotonic


class InMemoryReplayCache:
    """Expired entries are swept once a minute, and sooner when ``max_entries`` are held. A live entry is never
    dropped (that would let its value be replayed), so a sweep that frees too little moves the next size-driven
    sweep to twice what is left: the work of sweeping stays proportional to the entries added."""

    def __init__(self, max_entries: int = 1_000_000) -> None:
        self._entries: dict[str, float] = {}
        self._max_entries = max_entries
        self._sweep_at_size = max_entries
        self._next_sweep = 0.0

    async def add(self, purpose: str, handle: str, lifetime_seconds: float) -> bool:
        now = monotonic()
        if now >= self._next_sweep or len(self._entries) >= self._sweep_at_size:
            self._sweep(now)
        key = f"{purpose}:{handle}"
        expires = self._entries.get(key)
        if expires is not None and expires > now:
            return False
        self._entries[key] = now + lifetime_seconds
        return True

    def _sweep(self, now: float) -> None:
        self._entries = {k: v for k, v in self._entries.items() if v > now}
        self._next_sweep = now + 60
        self._sweep_at_size = max(self._max_entries, 2 * len(self._entries))
