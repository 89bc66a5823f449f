"""Configuration entities with their child collections on SQLAlchemy Core: what EF Core's ``Include`` and
cascade delete do for Duende's ``EntityFramework.Stores.ClientStore`` / ``ResourceStore`` and for seeding the
``ConfigurationDbContext``. Loading takes one SELECT for the parents and one per child table (children in
insertion order); replacing deletes the children explicitly before the parent, whatever the foreign keys do."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, insert, select

from identityserver.storage.sqlalchemy.async_bridge import AsyncConnection
from identityserver.storage.sqlalchemy.entities.configuration import Aggregate

IN_BATCH = 500
"""Parent ids per ``IN (...)`` when loading children (as the ORM's ``selectin`` loading batches them)."""

Row = Mapping[Any, Any]
"""A row read (``RowMapping``) or to be written (``dict``), by column name."""


@dataclasses.dataclass(frozen=True, slots=True)
class EntityRows:
    """One configuration entity as rows: its own row and, per child table, its child rows. Rows to be written
    leave out ``Id`` and the children's foreign key; :func:`replace` fills them in."""

    row: Row
    children: Mapping[Table, Sequence[Row]]

    def of(self, table: Table) -> Sequence[Row]:
        """The child rows of ``table`` (none when the table is not listed)."""
        return self.children.get(table, ())


async def load(conn: AsyncConnection, aggregate: Aggregate, *criteria: ColumnElement[bool]) -> list[EntityRows]:
    """The entities whose rows match ``criteria`` (all when none are given), ordered by ``Id``, with their
    children."""
    table = aggregate.table
    parents = (await conn.execute(select(table).where(*criteria).order_by(table.c.Id))).mappings().all()
    if not parents:
        return []
    ids = [parent["Id"] for parent in parents]
    children: dict[int, dict[Table, list[Row]]] = {i: {child: [] for child in aggregate.children} for i in ids}
    for child in aggregate.children:
        foreign_key = child.c[aggregate.foreign_key]
        for start in range(0, len(ids), IN_BATCH):
            stmt = select(child).where(foreign_key.in_(ids[start : start + IN_BATCH])).order_by(child.c.Id)
            for row in (await conn.execute(stmt)).mappings():
                children[row[aggregate.foreign_key]][child].append(row)
    return [EntityRows(parent, children[parent["Id"]]) for parent in parents]


async def delete_entity(conn: AsyncConnection, aggregate: Aggregate, key: str) -> datetime | None:
    """Delete the entity whose key column holds ``key``, children first; its ``Created`` (None if absent)."""
    table = aggregate.table
    existing = (await conn.execute(select(table.c.Id, table.c.Created).where(table.c[aggregate.key] == key))).first()
    if existing is None:
        return None
    for child in aggregate.children:
        await conn.execute(delete(child).where(child.c[aggregate.foreign_key] == existing.Id))
    await conn.execute(delete(table).where(table.c.Id == existing.Id))
    created: datetime = existing.Created
    return created


async def replace(conn: AsyncConnection, aggregate: Aggregate, entity: EntityRows, now: datetime) -> None:
    """Delete the entity with the same key and insert ``entity``. A replaced entry keeps its ``Created``
    and gets ``Updated = now`` (unless it was created at ``now``); a new one has ``Created = now``."""
    created = await delete_entity(conn, aggregate, entity.row[aggregate.key])
    row = {**entity.row, "Created": created or now}
    row["Updated"] = now if row["Created"] != now else None
    inserted = (await conn.execute(insert(aggregate.table).values(row))).inserted_primary_key
    if inserted is None:  # both dialects report the new Id
        raise RuntimeError(f"no Id for the new {aggregate.table.name} row")
    parent_id = inserted[0]
    for child in aggregate.children:
        rows = entity.of(child)
        if rows:
            await conn.execute(insert(child), [{**r, aggregate.foreign_key: parent_id} for r in rows])
