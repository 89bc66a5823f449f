"""The ``MetaData`` with EF Core's constraint names (``PK_T``, ``FK_T_Parent_Col``, ``IX_T_Cols``) so that a
schema made by IdentityServer's migrations (Duende ``EntityFramework.Storage``) and one made here look the same.

Every table is a SQLAlchemy Core ``Table``: the ORM is not used (it costs a worker ~18 MiB to import and map)."""

from __future__ import annotations

from sqlalchemy import Index, MetaData

NAMING_CONVENTION = {
    "ix": "IX_%(table_name)s_%(column_0_N_name)s",
    "uq": "IX_%(table_name)s_%(column_0_N_name)s",
    "fk": "FK_%(table_name)s_%(referred_table_name)s_%(column_0_name)s",
    "pk": "PK_%(table_name)s",
    "ck": "CK_%(table_name)s_%(constraint_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def ix(table: str, *columns: str, unique: bool = False) -> Index:
    """An index named as EF Core names it: ``IX_<table>_<col1>_<col2>``."""
    return Index(f"IX_{table}_{'_'.join(columns)}", *columns, unique=unique)
