"""SQL ``CorsPolicyService`` (Duende ``EntityFramework.Services.CorsPolicyService``): an origin is allowed when
a client lists it in ``ClientCorsOrigins`` (case-insensitive); answers are cached (``CorsExpiration``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from identityserver.clock import Clock
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.configuration import client_cors_origins

MAX_CACHED_ORIGINS = 10_000


class SqlCorsPolicyService:
    def __init__(self, database: Database, clock: Clock, expiration_seconds: int = 900) -> None:
        self.database = database
        self.clock = clock
        self.expiration = timedelta(seconds=expiration_seconds)
        self._cache: dict[str, tuple[datetime, bool]] = {}

    async def is_origin_allowed(self, origin: str) -> bool:
        now = self.clock.utc_now()
        key = origin.lower()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        stmt = select(func.count()).where(func.lower(client_cors_origins.c.Origin) == key)
        async with self.database.read() as conn:
            allowed = bool((await conn.execute(stmt)).scalar_one())
        if len(self._cache) >= MAX_CACHED_ORIGINS:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            if len(self._cache) >= MAX_CACHED_ORIGINS:
                self._cache.clear()
        self._cache[key] = (now + self.expiration, allowed)
        return allowed
