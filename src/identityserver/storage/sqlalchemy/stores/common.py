"""Helpers shared by the SQL stores: dialect-aware upsert and warnings about rows written by IdentityServer
(.NET) whose payloads are protected with ASP.NET Data Protection and cannot be read here."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Table
from sqlalchemy.sql.dml import Insert

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

logger = logging.getLogger("identityserver.storage")

_MAX_REPORTED = 10_000
_reported: set[tuple[str, str]] = set()


def dialect_insert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """The dialect's ``INSERT`` (with ``ON CONFLICT``). Only the dialect in use is imported: the PostgreSQL
    package loads every PostgreSQL DBAPI module (~2 MiB in a SQLite worker)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def upsert(
    dialect: str,
    table: Table,
    values: Mapping[Any, Any],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
    where: ColumnElement[bool] | None = None,
) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` of the ``update`` columns (all other columns by default),
    only where ``where`` holds for the existing row."""
    stmt = dialect_insert(dialect, table).values(**values)
    columns = update if update is not None else [c for c in values if c not in keys]
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: stmt.excluded[c] for c in columns}, where=where
    )


def report_unreadable(kind: str, key: str, reason: str) -> None:
    """Log once per row that a row cannot be used (it is then treated as absent, never as an error)."""
    if (kind, key) in _reported:
        return
    if len(_reported) < _MAX_REPORTED:
        _reported.add((kind, key))
    logger.warning(
        "%s %s cannot be read by this server and is ignored: %s (see docs/persistence.md, 'What does not carry over')",
        kind,
        key[:16] + "..." if len(key) > 16 else key,
        reason,
    )
