"""IdentityServer 6.2's schema: the ConfigurationDbContext and PersistedGrantDbContext tables exactly as
IdentityServer's own EF migrations (20220324152912_Configuration, 20220324152905_Grants) create them.

Revision ID: 0001
Revises: <base>
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from identityserver.storage.sqlalchemy.entities.types import Bool, UtcDateTime
from identityserver.storage.sqlalchemy.migrations.ef62_configuration import create_configuration_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _nvarchar(length: int) -> sa.types.TypeEngine[str]:
    """EF's nvarchar(n): character varying(n) on PostgreSQL, TEXT on SQLite."""
    return sa.String(length=length).with_variant(sa.Text(), "sqlite")


TABLES = (
    "ApiResources",
    "ApiScopes",
    "Clients",
    "DeviceCodes",
    "IdentityProviders",
    "IdentityResources",
    "Keys",
    "PersistedGrants",
    "ServerSideSessions",
    "ApiResourceClaims",
    "ApiResourceProperties",
    "ApiResourceScopes",
    "ApiResourceSecrets",
    "ApiScopeClaims",
    "ApiScopeProperties",
    "ClientClaims",
    "ClientCorsOrigins",
    "ClientGrantTypes",
    "ClientIdPRestrictions",
    "ClientPostLogoutRedirectUris",
    "ClientProperties",
    "ClientRedirectUris",
    "ClientScopes",
    "ClientSecrets",
    "IdentityResourceClaims",
    "IdentityResourceProperties",
)


def upgrade() -> None:
    create_configuration_tables()
    op.create_table(
        "DeviceCodes",
        sa.Column("UserCode", _nvarchar(200), nullable=False),
        sa.Column("DeviceCode", _nvarchar(200), nullable=False),
        sa.Column("SubjectId", _nvarchar(200), nullable=True),
        sa.Column("SessionId", _nvarchar(100), nullable=True),
        sa.Column("ClientId", _nvarchar(200), nullable=False),
        sa.Column("Description", _nvarchar(200), nullable=True),
        sa.Column("CreationTime", UtcDateTime(), nullable=False),
        sa.Column("Expiration", UtcDateTime(), nullable=False),
        sa.Column("Data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("UserCode", name=op.f("PK_DeviceCodes")),
    )
    op.create_index("IX_DeviceCodes_DeviceCode", "DeviceCodes", ["DeviceCode"], unique=True)
    op.create_index("IX_DeviceCodes_Expiration", "DeviceCodes", ["Expiration"])
    op.create_table(
        "Keys",
        sa.Column("Id", _nvarchar(450), nullable=False),
        sa.Column("Version", sa.Integer(), nullable=False),
        sa.Column("Created", UtcDateTime(), nullable=False),
        sa.Column("Use", _nvarchar(450), nullable=True),
        sa.Column("Algorithm", _nvarchar(100), nullable=False),
        sa.Column("IsX509Certificate", Bool(), nullable=False),
        sa.Column("DataProtected", Bool(), nullable=False),
        sa.Column("Data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_Keys")),
    )
    op.create_index("IX_Keys_Use", "Keys", ["Use"])
    op.create_table(
        "PersistedGrants",
        sa.Column(
            "Id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(always=False), nullable=False
        ),
        sa.Column("Key", _nvarchar(200), nullable=True),
        sa.Column("Type", _nvarchar(50), nullable=False),
        sa.Column("SubjectId", _nvarchar(200), nullable=True),
        sa.Column("SessionId", _nvarchar(100), nullable=True),
        sa.Column("ClientId", _nvarchar(200), nullable=False),
        sa.Column("Description", _nvarchar(200), nullable=True),
        sa.Column("CreationTime", UtcDateTime(), nullable=False),
        sa.Column("Expiration", UtcDateTime(), nullable=True),
        sa.Column("ConsumedTime", UtcDateTime(), nullable=True),
        sa.Column("Data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_PersistedGrants")),
        sqlite_autoincrement=True,
    )
    op.create_index("IX_PersistedGrants_ConsumedTime", "PersistedGrants", ["ConsumedTime"])
    op.create_index("IX_PersistedGrants_Expiration", "PersistedGrants", ["Expiration"])
    op.create_index("IX_PersistedGrants_Key", "PersistedGrants", ["Key"], unique=True)
    op.create_index(
        "IX_PersistedGrants_SubjectId_ClientId_Type", "PersistedGrants", ["SubjectId", "ClientId", "Type"], unique=False
    )
    op.create_index(
        "IX_PersistedGrants_SubjectId_SessionId_Type",
        "PersistedGrants",
        ["SubjectId", "SessionId", "Type"],
        unique=False,
    )
    op.create_table(
        "ServerSideSessions",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("Key", _nvarchar(100), nullable=False),
        sa.Column("Scheme", _nvarchar(100), nullable=False),
        sa.Column("SubjectId", _nvarchar(100), nullable=False),
        sa.Column("SessionId", _nvarchar(100), nullable=True),
        sa.Column("DisplayName", _nvarchar(100), nullable=True),
        sa.Column("Created", UtcDateTime(), nullable=False),
        sa.Column("Renewed", UtcDateTime(), nullable=False),
        sa.Column("Expires", UtcDateTime(), nullable=True),
        sa.Column("Data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ServerSideSessions")),
        sqlite_autoincrement=True,
    )
    op.create_index("IX_ServerSideSessions_DisplayName", "ServerSideSessions", ["DisplayName"])
    op.create_index("IX_ServerSideSessions_Expires", "ServerSideSessions", ["Expires"])
    op.create_index("IX_ServerSideSessions_Key", "ServerSideSessions", ["Key"], unique=True)
    op.create_index("IX_ServerSideSessions_SessionId", "ServerSideSessions", ["SessionId"])
    op.create_index("IX_ServerSideSessions_SubjectId", "ServerSideSessions", ["SubjectId"])


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
