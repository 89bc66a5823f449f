"""Sign-in methods beyond the local password: passkeys (WebAuthn), TOTP second factors with recovery codes, and
the links between upstream identity-provider accounts and local users (issue 14). Tables of our own: IdentityServer's
schema has none of these (it leaves them to ASP.NET Identity).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from identityserver.storage.sqlalchemy.entities.types import Bool, UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PASSKEYS = "IdentityServerUserPasskeys"
TOTP = "IdentityServerUserTotp"
EXTERNAL_LOGINS = "IdentityServerExternalLogins"


def _nvarchar(length: int | None = None) -> sa.types.TypeEngine[str]:
    """EF's nvarchar(n): character varying(n) on PostgreSQL, TEXT on SQLite."""
    return sa.String(length=length).with_variant(sa.Text(), "sqlite") if length else sa.Text()


def upgrade() -> None:
    op.create_table(
        PASSKEYS,
        sa.Column("CredentialId", _nvarchar(1400), nullable=False),  # base64url of up to 1023 bytes (WebAuthn §5.8.3)
        sa.Column("SubjectId", _nvarchar(200), nullable=False),
        sa.Column("UserHandle", _nvarchar(200), nullable=False),
        sa.Column("PublicKey", _nvarchar(), nullable=False),
        sa.Column("SignCount", sa.BigInteger(), nullable=False),
        sa.Column("Transports", _nvarchar(200), nullable=True),
        sa.Column("BackupEligible", Bool(), nullable=False),
        sa.Column("BackedUp", Bool(), nullable=False),
        sa.Column("Aaguid", _nvarchar(100), nullable=True),
        sa.Column("Name", _nvarchar(200), nullable=False),
        sa.Column("Created", UtcDateTime(), nullable=False),
        sa.Column("LastUsed", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("CredentialId", name=op.f(f"PK_{PASSKEYS}")),
    )
    op.create_index(f"IX_{PASSKEYS}_SubjectId", PASSKEYS, ["SubjectId"], unique=False)
    op.create_table(
        TOTP,
        sa.Column("SubjectId", _nvarchar(200), nullable=False),
        sa.Column("Secret", _nvarchar(), nullable=False),  # encrypted with data protection, never plain
        sa.Column("Enabled", Bool(), nullable=False),
        sa.Column("LastUsedStep", sa.BigInteger(), nullable=True),  # replay protection (RFC 6238 §5.2)
        sa.Column("RecoveryCodes", _nvarchar(), nullable=False),  # JSON list of hashes of the unused codes
        sa.Column("Created", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("SubjectId", name=op.f(f"PK_{TOTP}")),
    )
    op.create_table(
        EXTERNAL_LOGINS,
        sa.Column("Scheme", _nvarchar(200), nullable=False),
        sa.Column("ProviderSubjectId", _nvarchar(400), nullable=False),
        sa.Column("SubjectId", _nvarchar(200), nullable=False),
        sa.Column("DisplayName", _nvarchar(200), nullable=True),
        sa.Column("Created", UtcDateTime(), nullable=False),
        sa.Column("LastUsed", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("Scheme", "ProviderSubjectId", name=op.f(f"PK_{EXTERNAL_LOGINS}")),
    )
    op.create_index(f"IX_{EXTERNAL_LOGINS}_SubjectId", EXTERNAL_LOGINS, ["SubjectId"], unique=False)


def downgrade() -> None:
    op.drop_index(f"IX_{EXTERNAL_LOGINS}_SubjectId", table_name=EXTERNAL_LOGINS)
    op.drop_table(EXTERNAL_LOGINS)
    op.drop_table(TOTP)
    op.drop_index(f"IX_{PASSKEYS}_SubjectId", table_name=PASSKEYS)
    op.drop_table(PASSKEYS)
