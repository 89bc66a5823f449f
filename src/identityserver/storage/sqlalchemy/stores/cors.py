"""SQL ``CorsPolicyService`` (Duende ``EntityFramework.Services.CorsPolicyService``): an origin is allowed when
a client lists it in ``ClientCorsOrigins`` (case-insensitive); answers are cached (``CorsExpiration``)."""

from __future__ import annotations

from sqlalchemy import func, select

from identityserver.clock import Clock
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.configuration import client_cors_origins
from identityserver.stores.caching import TtlCache


class SqlCorsPolicyService:
    def __init__(self, database: Database, clock: Clock, expiration_seconds: int = 900) -> None:
        self.database = database
        self._cache: TtlCache[bool] = TtlCache(clock, expiration_seconds)

    async def is_origin_allowed(self, origin: str) -> bool:
        key = origin.lower()
        return await self._cache.get_or_add(key, lambda: self._is_listed(key))

    async def _is_listed(self, lowered_origin: str) -> bool:
        stmt = select(func.count()).where(func.lower(client_cors_origins.c.Origin) == lowered_origin)
        async with self.database.read() as conn:
            return bool((await conn.execute(stmt)).scalar_one())
