"""SQL ``PersistedGrantStore`` (Duende ``EntityFramework.Stores.PersistedGrantStore``) with atomic one-time
consumption: ``DELETE ... RETURNING`` and ``UPDATE ... WHERE ConsumedTime IS NULL RETURNING`` (RFC 6749 §4.1.2,
RFC 9700 §4.14.2): of N concurrent redemptions in any number of processes exactly one gets the grant."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, String, and_, any_, bindparam, cast, delete, func, select, true, update

from identityserver.models.grants import PersistedGrant, PersistedGrantFilter
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.operational import persisted_grants as t
from identityserver.storage.sqlalchemy.fast_path import Gathered, Prepared, point_read
from identityserver.storage.sqlalchemy.mappers import (
    is_aspnet_protected,
    persisted_grant_from_row,
    persisted_grant_to_row,
)
from identityserver.storage.sqlalchemy.stores.common import dialect_insert, report_unreadable, upsert

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
_SUCCESSOR = "successor_"
"""Prefixes the parameters of the grant ``replace`` stores beside the one that takes the removed grant's place."""
_UPSERTS: dict[str, Prepared] = {}
_REPLACES: dict[str, Prepared] = {}


def _upsert(dialect: str) -> Prepared:
    prepared = _UPSERTS.get(dialect)
    if prepared is None:
        values = {name: bindparam(name, type_=t.c[name].type) for name in _COLUMNS}
        prepared = _UPSERTS[dialect] = Prepared(upsert(dialect, t, values, ["Key"]))
    return prepared


def _replace(dialect: str) -> Prepared:
    """The grant under ``taken_key`` removed and the one in the columns' parameters stored, in one statement (a
    grant already under the new key is overwritten, as by ``store``). A refresh token rotated away becomes its
    tombstone this way (services/refresh_tokens.py); as two statements it cost 1.4-1.7 % more instructions a
    refresh (docs/performance-stored-grants.md, seventeenth pass)."""
    prepared = _REPLACES.get(dialect)
    if prepared is not None:
        return prepared
    if dialect != "postgresql":
        # SQLite: the row itself becomes the new grant; OR REPLACE is the upsert's overwrite
        values = {name: bindparam(name, type_=t.c[name].type) for name in _COLUMNS}
        statement = (
            update(t)
            .prefix_with("OR REPLACE", dialect="sqlite")
            .where(t.c.Key == bindparam("taken_key", type_=t.c.Key.type))
            .values(values)
            .returning(t.c.Key)
        )
        prepared = _REPLACES[dialect] = Prepared(statement)
        return prepared
    prepared = _REPLACES[dialect] = _replace_postgres(with_successor=False)
    return prepared


def _replace_with_successor() -> Prepared:
    """PostgreSQL: ``_replace``'s statement, with a second grant (a refresh token's successor) inserted from the same
    take, so that both are stored or neither, in one round trip and one commit. (SQLite runs ``_replace`` and the
    upsert in one transaction of its group commit, where a statement costs no round trip.)"""
    prepared = _REPLACES.get("postgresql+successor")
    if prepared is None:
        prepared = _REPLACES["postgresql+successor"] = _replace_postgres(with_successor=True)
    return prepared


def _replace_postgres(with_successor: bool) -> Prepared:
    """PostgreSQL has no UPDATE OR REPLACE: the take feeds an upsert of the new grant (and of the successor), as
    one statement for one call and (gathered) for the calls that arrive together, unnest()ed."""
    prefixes = ["", _SUCCESSOR] if with_successor else [""]
    names = [prefix + name for prefix in prefixes for name in _COLUMNS]
    taken = delete(t).where(t.c.Key == bindparam("taken_key", type_=t.c.Key.type)).returning(t.c.Key).cte("taken")
    arrays = [bindparam(name, type_=ARRAY(t.c[name.removeprefix(_SUCCESSOR)].type)) for name in names]
    calls = (
        select(
            func.unnest(bindparam("taken_key", type_=ARRAY(t.c.Key.type)), *arrays)
            .table_valued("taken_key", *names)
            .render_derived(name="calls")
        )
    ).cte("calls")
    taken_together = delete(t).where(t.c.Key == calls.c.taken_key).returning(t.c.Key).cte("taken")
    joined = calls.join(taken_together, taken_together.c.Key == calls.c.taken_key)

    def one(prefix: str) -> Any:
        """The grant in the parameters named ``prefix`` + column, stored where the take found the row."""
        values = [cast(bindparam(prefix + name, type_=t.c[name].type), t.c[name].type) for name in _COLUMNS]
        return _insert_taken(select(*values).select_from(taken))

    def together(prefix: str) -> Any:
        return _insert_taken(select(*[calls.c[prefix + name] for name in _COLUMNS]).select_from(joined))

    single, gathered = one("").add_cte(taken), together("").add_cte(calls, taken_together)
    if with_successor:
        single = single.add_cte(one(_SUCCESSOR).cte("successor"))
        gathered = gathered.add_cte(together(_SUCCESSOR).cte("successor"))
    return Prepared(single, Gathered(gathered, "Key", "Key", once=True))


def _insert_taken(rows: Any) -> Any:
    """``INSERT ... SELECT`` of ``rows`` overwriting a grant under the same key, returning the keys stored."""
    statement = dialect_insert("postgresql", t).from_select(_COLUMNS, rows)
    overwrite = {name: statement.excluded[name] for name in _COLUMNS if name != "Key"}
    return statement.on_conflict_do_update(index_elements=["Key"], set_=overwrite).returning(t.c.Key)


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

    async def replace(self, key: str, grant: PersistedGrant, successor: PersistedGrant | None = None) -> bool:
        values = persisted_grant_to_row(grant)
        values["taken_key"] = key
        dialect = self.database.dialect
        if successor is None:
            return await self.database.fetch_one(_replace(dialect), values, write=True) is not None
        stored = persisted_grant_to_row(successor)
        if dialect == "postgresql":
            values.update((_SUCCESSOR + name, value) for name, value in stored.items())
            return await self.database.fetch_one(_replace_with_successor(), values, write=True) is not None
        then = [(_upsert(dialect), stored)]
        return await self.database.fetch_one(_replace(dialect), values, write=True, then=then) is not None
