"""SQL ``ServerSideSessionStore`` (Duende ``EntityFramework.Stores.ServerSideSessionStore``) on the
``ServerSideSessions`` table; expired sessions are claimed atomically so that two processes never both get one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, bindparam, delete, func, literal, select, true, update
from sqlalchemy.exc import IntegrityError

from identityserver.models.sessions import QueryResult, ServerSideSession, SessionFilter, SessionQuery
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.operational import server_side_sessions as t
from identityserver.storage.sqlalchemy.fast_path import Prepared, point_read
from identityserver.storage.sqlalchemy.mappers import session_from_row, session_to_row

# prepared once: with server-side sessions every request that reads the session cookie runs these (fast_path.py);
# the reads gathered on PostgreSQL (postgres_fast_path.py)
_KEY = bindparam("key", type_=t.c.Key.type)
_GET = point_read(t.c.Key, "key")
_DELETE = Prepared(delete(t).where(t.c.Key == _KEY))
_UPDATED = [c.name for c in t.c if c.name not in ("Id", "Key")]
_UPDATE = Prepared(
    update(t).where(t.c.Key == _KEY).values({name: bindparam(f"v_{name}", type_=t.c[name].type) for name in _UPDATED})
)


def _filter(session_filter: SessionFilter) -> ColumnElement[bool]:
    if session_filter.is_empty():
        raise ValueError("a session filter needs a subject id or a session id")
    clauses = []
    if session_filter.subject_id:
        clauses.append(t.c.SubjectId == session_filter.subject_id)
    if session_filter.session_id:
        clauses.append(t.c.SessionId == session_filter.session_id)
    return and_(true(), *clauses)


def _prefix(column: ColumnElement[str | None], wanted: str | None) -> ColumnElement[bool]:
    if not wanted:
        return true()
    escaped = wanted.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(literal(escaped) + "%", escape="\\")


class SqlServerSideSessionStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def get_session(self, key: str) -> ServerSideSession | None:
        row = await self.database.fetch_one(_GET, {"key": key})
        return session_from_row(row) if row is not None else None

    async def create_session(self, session: ServerSideSession) -> None:
        try:
            async with self.database.write() as conn:
                await conn.execute(t.insert().values(**session_to_row(session)))
        except IntegrityError as exc:
            raise ValueError("session key already exists") from exc

    async def update_session(self, session: ServerSideSession) -> None:
        row = session_to_row(session)
        values = {f"v_{name}": row[name] for name in _UPDATED}
        values["key"] = session.key
        await self.database.fetch_one(_UPDATE, values, write=True)

    async def delete_session(self, key: str) -> None:
        await self.database.fetch_one(_DELETE, {"key": key}, write=True)

    async def get_sessions(self, session_filter: SessionFilter) -> list[ServerSideSession]:
        stmt = select(t).where(_filter(session_filter)).order_by(t.c.Id)
        async with self.database.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [session_from_row(r) for r in rows]

    async def delete_sessions(self, session_filter: SessionFilter) -> None:
        clause = _filter(session_filter)
        async with self.database.write() as conn:
            await conn.execute(delete(t).where(clause))

    async def get_and_remove_expired_sessions(self, now: datetime, count: int) -> list[ServerSideSession]:
        batch = select(t.c.Id).where(t.c.Expires < now).order_by(t.c.Expires).limit(count)
        if self.database.dialect == "postgresql":
            batch = batch.with_for_update(skip_locked=True)
        stmt = delete(t).where(t.c.Id.in_(batch.scalar_subquery()), t.c.Expires < now).returning(*t.c)
        async with self.database.write() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return sorted((session_from_row(r) for r in rows), key=lambda s: s.expires or now)

    async def query_sessions(self, query: SessionQuery) -> QueryResult:
        where = and_(
            _prefix(t.c.SubjectId, query.subject_id),
            _prefix(t.c.SessionId, query.session_id),
            _prefix(t.c.DisplayName, query.display_name),
        )
        start, size = query.page_bounds()
        async with self.database.read() as conn:
            total = (await conn.execute(select(func.count()).select_from(t).where(where))).scalar_one()
            stmt = select(t).where(where).order_by(t.c.Created, t.c.Key).offset(start).limit(size)
            rows = (await conn.execute(stmt)).mappings().all()
        return QueryResult.page(query, [session_from_row(r) for r in rows], total)
