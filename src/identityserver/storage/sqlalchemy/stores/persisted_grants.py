"""SQL ``PersistedGrantStore`` (Duende ``EntityFramework.Stores.PersistedGrantStore``) with atomic one-time
consumption: ``DELETE ... RETURNING`` and ``UPDATE ... WHERE ConsumedTime IS NULL RETURNING`` (RFC 6749 §4.1.2,
RFC 9700 §4.14.2): of N concurrent redemptions in any number of processes exactly one gets the grant."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, String, and_, any_, bindparam, delete, func, select, true, update

from identityserver.models.grants import PersistedGrant, PersistedGrantFilter
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.operational import persisted_grants as t
from identityserver.storage.sqlalchemy.fast_path import Gathered, Prepared, point_read
from identityserver.storage.sqlalchemy.mappers import (
    is_aspnet_protected,
    persisted_grant_from_row,
    persisted_grant_to_row,
)
from identityserver.storage.sqlalchemy.stores.common import report_unreadable, upsert

_COLUMNS = [c.name for c in t.c if c.name != "Id"]
# prepared once: these run for every code, token, consent and PAR record (fast_path.py); the gathered forms run for
# the calls that arrive together on PostgreSQL (postgres_fast_path.py)
_KEYS = bindparam("key", type_=ARRAY(String()))
_GET = point_read(t.c.Key, "key")
_DELETE = Prepared(delete(t).where(t.c.Key == bindparam("key")))
_TAKE = Prepared(
    delete(t).where(t.c.Key == bindparam("key")).returning(*t.c),
    Gathered(delete(t).where(t.c.Key == any_(_KEYS)).returning(*t.c), "key", "Key", once=True),
)
_CONSUMED = func.unnest(_KEYS, bindparam("consumed_time", type_=ARRAY(t.c.ConsumedTime.type)))
_CONSUMED_BY_KEY = _CONSUMED.table_valued("key", "consumed_time").render_derived(name="consumed")
_CONSUME = Prepared(
    update(t)
    .where(t.c.Key == bindparam("key"), t.c.ConsumedTime.is_(None))
    .values(ConsumedTime=bindparam("consumed_time", type_=t.c.ConsumedTime.type))
    .returning(*t.c),
    Gathered(
        update(t)
        .where(t.c.Key == _CONSUMED_BY_KEY.c.key, t.c.ConsumedTime.is_(None))
        .values(ConsumedTime=_CONSUMED_BY_KEY.c.consumed_time)
        .returning(*t.c),
        "key",
        "Key",
        once=True,
    ),
)
_UPSERTS: dict[str, Prepared] = {}


def _upsert(dialect: str) -> Prepared:
    prepared = _UPSERTS.get(dialect)
    if prepared is None:
        values = {name: bindparam(name, type_=t.c[name].type) for name in _COLUMNS}
        prepared = _UPSERTS[dialect] = Prepared(upsert(dialect, t, values, ["Key"]))
    return prepared


def grant_filter_clause(grant_filter: PersistedGrantFilter) -> ColumnElement[bool]:
    if grant_filter.is_empty():
        raise ValueError("a persisted grant filter needs at least one criterion")
    clauses: list[ColumnElement[bool]] = []
    if grant_filter.subject_id:
        clauses.append(t.c.SubjectId == grant_filter.subject_id)
    if grant_filter.session_id:
        clauses.append(t.c.SessionId == grant_filter.session_id)
    if grant_filter.client_id:
        clauses.append(t.c.ClientId == grant_filter.client_id)
    if grant_filter.client_ids:
        clauses.append(t.c.ClientId.in_(grant_filter.client_ids))
    if grant_filter.type:
        clauses.append(t.c.Type == grant_filter.type)
    if grant_filter.types:
        clauses.append(t.c.Type.in_(grant_filter.types))
    return and_(true(), *clauses)


def _usable(row: Mapping[Any, Any] | None) -> PersistedGrant | None:
    """The grant, or ``None`` for a row without a key or with a payload protected by IdentityServer (.NET)."""
    if row is None or row["Key"] is None:
        return None
    if is_aspnet_protected(row["Data"]):
        report_unreadable("persisted grant", row["Key"], "payload protected with ASP.NET Data Protection")
        return None
    return persisted_grant_from_row(row)


class SqlPersistedGrantStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def store(self, grant: PersistedGrant) -> None:
        await self.database.fetch_one(_upsert(self.database.dialect), persisted_grant_to_row(grant), write=True)

    async def get(self, key: str) -> PersistedGrant | None:
        return _usable(await self.database.fetch_one(_GET, {"key": key}))

    async def get_all(self, grant_filter: PersistedGrantFilter) -> list[PersistedGrant]:
        stmt = select(t).where(grant_filter_clause(grant_filter)).order_by(t.c.Id)
        async with self.database.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [g for g in (_usable(r) for r in rows) if g is not None]

    async def remove(self, key: str) -> None:
        await self.database.fetch_one(_DELETE, {"key": key}, write=True)

    async def remove_all(self, grant_filter: PersistedGrantFilter) -> None:
        clause = grant_filter_clause(grant_filter)
        async with self.database.write() as conn:
            await conn.execute(delete(t).where(clause))

    async def take(self, key: str) -> PersistedGrant | None:
        return _usable(await self.database.fetch_one(_TAKE, {"key": key}, write=True))

    async def consume(self, key: str, consumed_time: datetime) -> PersistedGrant | None:
        values = {"key": key, "consumed_time": consumed_time}
        return _usable(await self.database.fetch_one(_CONSUME, values, write=True))
