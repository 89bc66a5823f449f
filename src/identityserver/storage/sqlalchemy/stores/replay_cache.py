"""SQL ``ReplayCache`` (Duende ``DefaultReplayCache`` over a shared store; RFC 9449 §11.1, RFC 7523 §3 (7)):
an atomic insert-if-absent with expiry, so a DPoP or client-assertion ``jti`` is accepted once across processes."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import bindparam, delete

from identityserver.clock import Clock
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.operational import replay_cache as t
from identityserver.storage.sqlalchemy.fast_path import Prepared
from identityserver.storage.sqlalchemy.stores.common import upsert

SWEEP_INTERVAL = timedelta(minutes=1)
_NOW = bindparam("now", type_=t.c.Expiration.type)
_SWEEP = Prepared(delete(t).where(t.c.Expiration <= _NOW))
_ADDS: dict[str, Prepared] = {}


def _add(dialect: str) -> Prepared:
    """``INSERT ... ON CONFLICT (Key) DO UPDATE ... WHERE the existing row has expired RETURNING Key``: a row comes
    back only when this call recorded the value (new, or taking over an expired entry). Prepared once: every DPoP
    proof and client assertion runs it (fast_path.py)."""
    prepared = _ADDS.get(dialect)
    if prepared is None:
        values = {
            "Key": bindparam("key", type_=t.c.Key.type),
            "Expiration": bindparam("expiration", type_=t.c.Expiration.type),
        }
        statement = upsert(dialect, t, values, ["Key"], where=t.c.Expiration <= _NOW).returning(t.c.Key)
        prepared = _ADDS[dialect] = Prepared(statement)
    return prepared


class SqlReplayCache:
    """Rows are keyed by the SHA-256 of purpose and handle; an expired row is taken over by the next ``add``.
    Expired rows are swept at most once a minute per process."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock
        self._next_sweep = clock.utc_now()

    @staticmethod
    def key(purpose: str, handle: str) -> str:
        return hashlib.sha256(f"{purpose}\x00{handle}".encode("utf-8", "surrogatepass")).hexdigest()

    async def add(self, purpose: str, handle: str, lifetime_seconds: float) -> bool:
        now = self.clock.utc_now()
        values = {
            "key": self.key(purpose, handle),
            "expiration": now + timedelta(seconds=lifetime_seconds),
            "now": now,
        }
        recorded = await self.database.fetch_one(_add(self.database.dialect), values, write=True) is not None
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_INTERVAL
            await self.database.fetch_one(_SWEEP, {"now": now}, write=True)
        return recorded
