"""The durable queue of back-channel logout deliveries (OIDC Back-Channel Logout 1.0 §2.5), so that a restart or
a crash of the server loses no pending logout notification.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from identityserver.storage.sqlalchemy.entities.types import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLE = "IdentityServerBackChannelLogouts"


def _nvarchar(length: int) -> sa.types.TypeEngine[str]:
    """EF's nvarchar(n): character varying(n) on PostgreSQL, TEXT on SQLite."""
    return sa.String(length=length).with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("Id", _nvarchar(100), nullable=False),
        sa.Column("ClientId", _nvarchar(200), nullable=False),
        sa.Column("SubjectId", _nvarchar(200), nullable=False),
        sa.Column("SessionId", _nvarchar(100), nullable=True),
        sa.Column("Issuer", _nvarchar(2000), nullable=False),
        sa.Column("Created", UtcDateTime(), nullable=False),
        sa.Column("NextAttempt", UtcDateTime(), nullable=False),
        sa.Column("Attempts", sa.Integer(), nullable=False),
        sa.Column("LastError", _nvarchar(200), nullable=True),
        sa.PrimaryKeyConstraint("Id", name=op.f(f"PK_{TABLE}")),
    )
    op.create_index(f"IX_{TABLE}_NextAttempt", TABLE, ["NextAttempt"], unique=False)


def downgrade() -> None:
    op.drop_index(f"IX_{TABLE}_NextAttempt", table_name=TABLE)
    op.drop_table(TABLE)
