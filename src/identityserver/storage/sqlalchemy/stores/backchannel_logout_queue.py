"""SQL ``BackChannelLogoutQueue`` on ``IdentityServerBackChannelLogouts``: pending back-channel logout deliveries
(OIDC Back-Channel Logout 1.0 §2.5) shared by every process and kept across restarts.

A claim leases rows by moving ``NextAttempt`` to the end of the lease in the same statement that selects them
(``UPDATE ... WHERE Id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`` on PostgreSQL; on SQLite the write
transaction serialises claimers), so two processes never hold one delivery at once, and a delivery whose
claimer died becomes due again when its lease ends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy.exc import IntegrityError

from identityserver.models.logout import BackChannelLogoutDelivery
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.operational import backchannel_logouts as t
from identityserver.storage.sqlalchemy.fast_path import Prepared

LAST_ERROR_LENGTH = 200

_ANY_DUE = Prepared(
    select(exists().where(t.c.NextAttempt <= bindparam("now", type_=t.c.NextAttempt.type)).label("due"))
)
_COMPLETE = Prepared(delete(t).where(t.c.Id == bindparam("id")))
_RETRY = Prepared(
    update(t)
    .where(t.c.Id == bindparam("id"))
    .values(
        NextAttempt=bindparam("next_attempt", type_=t.c.NextAttempt.type),
        Attempts=bindparam("attempts", type_=t.c.Attempts.type),
        LastError=bindparam("last_error", type_=t.c.LastError.type),
    )
)


def _to_row(delivery: BackChannelLogoutDelivery) -> dict[str, Any]:
    return {
        "Id": delivery.id,
        "ClientId": delivery.client_id,
        "SubjectId": delivery.subject_id,
        "SessionId": delivery.session_id,
        "Issuer": delivery.issuer,
        "Created": delivery.created,
        "NextAttempt": delivery.next_attempt_at,
        "Attempts": delivery.attempts,
        "LastError": delivery.last_error[:LAST_ERROR_LENGTH] if delivery.last_error else delivery.last_error,
    }


def _from_row(row: Mapping[Any, Any]) -> BackChannelLogoutDelivery:
    return BackChannelLogoutDelivery(
        id=row["Id"],
        client_id=row["ClientId"],
        subject_id=row["SubjectId"],
        session_id=row["SessionId"],
        issuer=row["Issuer"],
        created=row["Created"],
        next_attempt_at=row["NextAttempt"],
        attempts=row["Attempts"],
        last_error=row["LastError"],
    )


class SqlBackChannelLogoutQueue:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def enqueue(self, deliveries: Sequence[BackChannelLogoutDelivery]) -> None:
        if not deliveries:
            return
        try:
            async with self.database.write() as conn:
                await conn.execute(t.insert(), [_to_row(d) for d in deliveries])
        except IntegrityError as exc:
            raise ValueError("a back-channel logout delivery with this id is already queued") from exc

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[BackChannelLogoutDelivery]:
        if limit <= 0:
            return []
        # every worker polls: look first with a plain read, so that an empty queue (the usual case) costs no write
        # transaction (on SQLite, no turn at its single write lock)
        found = await self.database.fetch_one(_ANY_DUE, {"now": now})
        if found is None or not found["due"]:
            return []
        batch = select(t.c.Id).where(t.c.NextAttempt <= now).order_by(t.c.NextAttempt, t.c.Id).limit(limit)
        if self.database.dialect == "postgresql":
            batch = batch.with_for_update(skip_locked=True)
        stmt = (
            update(t)
            .where(t.c.Id.in_(batch.scalar_subquery()), t.c.NextAttempt <= now)
            .values(NextAttempt=lease_until)
            .returning(*t.c)
        )
        async with self.database.write() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return sorted((_from_row(r) for r in rows), key=lambda d: (d.created, d.id))

    async def complete(self, delivery_id: str) -> None:
        await self.database.fetch_one(_COMPLETE, {"id": delivery_id}, write=True)

    async def retry(self, delivery_id: str, next_attempt_at: datetime, attempts: int, last_error: str) -> None:
        values = {
            "id": delivery_id,
            "next_attempt": next_attempt_at,
            "attempts": attempts,
            "last_error": last_error[:LAST_ERROR_LENGTH],
        }
        await self.database.fetch_one(_RETRY, values, write=True)
