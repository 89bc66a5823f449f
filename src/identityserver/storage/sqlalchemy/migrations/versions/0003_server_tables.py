"""This server's own tables, which IdentityServer does not have: the replay cache shared by every process,
the data-protection key ring, and the users loaded by `identityserver config import`.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from identityserver.storage.sqlalchemy.entities.types import Bool, UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _nvarchar(length: int) -> sa.types.TypeEngine[str]:
    """EF's nvarchar(n): character varying(n) on PostgreSQL, TEXT on SQLite."""
    return sa.String(length=length).with_variant(sa.Text(), "sqlite")


TABLES = (
    "IdentityServerDataProtectionKeys",
    "IdentityServerReplayCache",
    "IdentityServerUsers",
)


def upgrade() -> None:
    op.create_table(
        "IdentityServerDataProtectionKeys",
        sa.Column("Id", _nvarchar(100), nullable=False),
        sa.Column("Created", UtcDateTime(), nullable=False),
        sa.Column("Activation", UtcDateTime(), nullable=False),
        sa.Column("Expiration", UtcDateTime(), nullable=False),
        sa.Column("Material", _nvarchar(200), nullable=False),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_IdentityServerDataProtectionKeys")),
    )
    op.create_table(
        "IdentityServerReplayCache",
        sa.Column("Key", _nvarchar(100), nullable=False),
        sa.Column("Expiration", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("Key", name=op.f("PK_IdentityServerReplayCache")),
    )
    op.create_index(
        "IX_IdentityServerReplayCache_Expiration", "IdentityServerReplayCache", ["Expiration"], unique=False
    )
    op.create_table(
        "IdentityServerUsers",
        sa.Column("SubjectId", _nvarchar(200), nullable=False),
        sa.Column("Username", _nvarchar(200), nullable=False),
        sa.Column("NormalizedUsername", _nvarchar(200), nullable=False),
        sa.Column("PasswordHash", sa.Text(), nullable=False),
        sa.Column("Claims", sa.Text(), nullable=False),
        sa.Column("IsActive", Bool(), nullable=False),
        sa.Column("ProviderName", _nvarchar(200), nullable=True),
        sa.Column("ProviderSubjectId", _nvarchar(200), nullable=True),
        sa.PrimaryKeyConstraint("SubjectId", name=op.f("PK_IdentityServerUsers")),
    )
    op.create_index(
        "IX_IdentityServerUsers_NormalizedUsername", "IdentityServerUsers", ["NormalizedUsername"], unique=True
    )


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
