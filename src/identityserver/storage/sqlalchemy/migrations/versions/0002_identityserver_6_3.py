"""IdentityServer 6.3's schema change (upgrade guide v6.2 -> v6.3, Step 2): ``Clients`` gains ``RequireDPoP``,
``DPoPValidationMode``, ``DPoPClockSkew`` and ``InitiateLoginUri``. Existing rows get false, 0 (Custom), a zero
TimeSpan and NULL, the values the guide prescribes and the defaults EF's generated upgrade migration writes.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from identityserver.storage.sqlalchemy.entities.types import Bool, TimeSpan

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NEW_COLUMNS = ("RequireDPoP", "DPoPValidationMode", "DPoPClockSkew", "InitiateLoginUri")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column(
        "Clients", sa.Column("RequireDPoP", Bool(), nullable=False, server_default=sa.text("0" if sqlite else "false"))
    )
    op.add_column("Clients", sa.Column("DPoPValidationMode", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("Clients", sa.Column("DPoPClockSkew", TimeSpan(), nullable=False, server_default="00:00:00"))
    op.add_column(
        "Clients",
        sa.Column("InitiateLoginUri", sa.String(length=2000).with_variant(sa.Text(), "sqlite"), nullable=True),
    )


def downgrade() -> None:
    for name in reversed(NEW_COLUMNS):
        op.drop_column("Clients", name)
