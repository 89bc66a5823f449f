"""Alembic environment for ``identityserver db``: migrations run on the connection that
:mod:`identityserver.storage.sqlalchemy.migrate` passes in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

from identityserver.storage.sqlalchemy.entities import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `identityserver db upgrade` (identityserver.storage.sqlalchemy.migrate)")

# ``on_version_apply`` (optional) reports each revision as it is applied: the command line's progress.
context.configure(
    connection=connection,
    target_metadata=metadata,
    compare_type=True,
    transactional_ddl=True,
    on_version_apply=context.config.attributes.get("on_version_apply"),
)
with context.begin_transaction():
    context.run_migrations()
