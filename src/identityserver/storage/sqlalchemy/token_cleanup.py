"""``SqlTokenCleanupService`` (Duende ``EntityFramework.Storage/TokenCleanup/TokenCleanupService``, 6.3): removes
expired grants, consumed grants and expired device codes in batches of ``token_cleanup_batch_size``.

Each batch is one statement that locks only the rows it deletes (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a
write transaction on SQLite) and re-checks the expiry, so several processes can run it at once without
deadlocks, without blocking user requests on the same rows, and without deleting a row that is still live."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, select

from identityserver.clock import Clock
from identityserver.options import OperationalStoreOptions
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.operational import device_codes, persisted_grants
from identityserver.telemetry import CLEANUP_REMOVED

logger = logging.getLogger("identityserver.token_cleanup")


@dataclasses.dataclass(slots=True)
class TokenCleanupResult:
    """What one ``cleanup_grants`` pass removed."""

    expired_grants: int = 0
    consumed_grants: int = 0
    device_codes: int = 0


class SqlTokenCleanupService:
    """The default ``TokenCleanupService``. Subclass it, override a step (each is a public method), and register
    the subclass with ``builder.override(TokenCleanupService, MyCleanup)`` (see docs/persistence.md)."""

    def __init__(self, database: Database, options: OperationalStoreOptions, clock: Clock) -> None:
        if options.token_cleanup_batch_size < 1:
            raise ValueError("token_cleanup_batch_size must be at least 1")
        self.database = database
        self.options = options
        self.clock = clock
        self.last_result = TokenCleanupResult()

    async def cleanup_grants(self) -> None:
        """One pass, in Duende's order: expired grants, consumed grants, expired device codes."""
        result = TokenCleanupResult()
        result.expired_grants = await self.remove_expired_persisted_grants()
        if self.options.remove_consumed_tokens:
            result.consumed_grants = await self.remove_consumed_persisted_grants()
        result.device_codes = await self.remove_device_codes()
        self.last_result = result
        for kind, count in dataclasses.asdict(result).items():
            if count:
                CLEANUP_REMOVED.add(count, {"kind": kind})
        if result.expired_grants or result.consumed_grants or result.device_codes:
            logger.info(
                "token cleanup removed %d expired grants, %d consumed grants, %d device codes",
                result.expired_grants,
                result.consumed_grants,
                result.device_codes,
            )

    async def remove_expired_persisted_grants(self) -> int:
        now = self.clock.utc_now()
        t = persisted_grants
        return await self.remove_in_batches(t, t.c.Id, t.c.Expiration, t.c.Expiration < now)

    async def remove_consumed_persisted_grants(self) -> int:
        cutoff = self.clock.utc_now() - timedelta(seconds=self.options.consumed_token_cleanup_delay)
        t = persisted_grants
        return await self.remove_in_batches(t, t.c.Id, t.c.ConsumedTime, t.c.ConsumedTime < cutoff)

    async def remove_device_codes(self) -> int:
        now = self.clock.utc_now()
        t = device_codes
        return await self.remove_in_batches(t, t.c.UserCode, t.c.Expiration, t.c.Expiration < now)

    async def remove_in_batches(
        self,
        table: Table,
        key: ColumnElement[Any],
        order: ColumnElement[Any],
        condition: ColumnElement[bool],
    ) -> int:
        """Delete matching rows, ``token_cleanup_batch_size`` at a time (oldest first), until a batch is short.

        Each batch starts where the previous one ended (``order >= last``), so the index scan never walks over
        the entries of rows it has just deleted; rows added behind the cursor meanwhile wait for the next pass."""
        size = self.options.token_cleanup_batch_size
        total = 0
        last: Any = None
        while True:
            where = condition if last is None else and_(condition, order >= last)
            batch = select(key).where(where).order_by(order).limit(size)
            if self.database.dialect == "postgresql":
                batch = batch.with_for_update(skip_locked=True)
            stmt = delete(table).where(key.in_(batch.scalar_subquery()), condition).returning(order)
            async with self.database.write() as conn:
                removed = [row[0] for row in (await conn.execute(stmt)).all()]
            total += len(removed)
            await self.on_batch_removed(table.name, len(removed))
            if len(removed) < size:
                return total
            last = max(removed)

    async def on_batch_removed(self, table_name: str, count: int) -> None:
        """Called after each batch (Duende ``IOperationalStoreNotification``); does nothing by default."""
