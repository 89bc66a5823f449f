"""The 6.2 ``ConfigurationDbContext`` tables as IdentityServer's EF migration ``20220324152912_Configuration``
creates them (used by revision 0001; ``op.*`` only, never the ORM entities)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from identityserver.storage.sqlalchemy.entities.types import Bool, UtcDateTime


def _nvarchar(length: int) -> sa.types.TypeEngine[str]:
    """EF's nvarchar(n): character varying(n) on PostgreSQL, TEXT on SQLite."""
    return sa.String(length=length).with_variant(sa.Text(), "sqlite")


def create_configuration_tables() -> None:
    op.create_table(
        "ApiResources",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("Enabled", Bool(), nullable=False),
        sa.Column("Name", _nvarchar(200), nullable=False),
        sa.Column("DisplayName", _nvarchar(200), nullable=True),
        sa.Column("Description", _nvarchar(1000), nullable=True),
        sa.Column(
            "AllowedAccessTokenSigningAlgorithms",
            _nvarchar(100),
            nullable=True,
        ),
        sa.Column("ShowInDiscoveryDocument", Bool(), nullable=False),
        sa.Column("RequireResourceIndicator", Bool(), nullable=False),
        sa.Column("Created", UtcDateTime(), nullable=False),
        sa.Column("Updated", UtcDateTime(), nullable=True),
        sa.Column("LastAccessed", UtcDateTime(), nullable=True),
        sa.Column("NonEditable", Bool(), nullable=False),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ApiResources")),
        sqlite_autoincrement=True,
    )
    op.create_index("IX_ApiResources_Name", "ApiResources", ["Name"], unique=True)
    op.create_table(
        "ApiScopes",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("Enabled", Bool(), nullable=False),
        sa.Column("Name", _nvarchar(200), nullable=False),
        sa.Column("DisplayName", _nvarchar(200), nullable=True),
        sa.Column("Description", _nvarchar(1000), nullable=True),
        sa.Column("Required", Bool(), nullable=False),
        sa.Column("Emphasize", Bool(), nullable=False),
        sa.Column("ShowInDiscoveryDocument", Bool(), nullable=False),
        sa.Column("Created", UtcDateTime(), nullable=False),
        sa.Column("Updated", UtcDateTime(), nullable=True),
        sa.Column("LastAccessed", UtcDateTime(), nullable=True),
        sa.Column("NonEditable", Bool(), nullable=False),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ApiScopes")),
        sqlite_autoincrement=True,
    )
    op.create_index("IX_ApiScopes_Name", "ApiScopes", ["Name"], unique=True)
    op.create_table(
        "Clients",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("Enabled", Bool(), nullable=False),
        sa.Column("ClientId", _nvarchar(200), nullable=False),
        sa.Column("ProtocolType", _nvarchar(200), nullable=False),
        sa.Column("RequireClientSecret", Bool(), nullable=False),
        sa.Column("ClientName", _nvarchar(200), nullable=True),
        sa.Column("Description", _nvarchar(1000), nullable=True),
        sa.Column("ClientUri", _nvarchar(2000), nullable=True),
        sa.Column("LogoUri", _nvarchar(2000), nullable=True),
        sa.Column("RequireConsent", Bool(), nullable=False),
        sa.Column("AllowRememberConsent", Bool(), nullable=False),
        sa.Column("AlwaysIncludeUserClaimsInIdToken", Bool(), nullable=False),
        sa.Column("RequirePkce", Bool(), nullable=False),
        sa.Column("AllowPlainTextPkce", Bool(), nullable=False),
        sa.Column("RequireRequestObject", Bool(), nullable=False),
        sa.Column("AllowAccessTokensViaBrowser", Bool(), nullable=False),
        sa.Column("FrontChannelLogoutUri", _nvarchar(2000), nullable=True),
        sa.Column("FrontChannelLogoutSessionRequired", Bool(), nullable=False),
        sa.Column("BackChannelLogoutUri", _nvarchar(2000), nullable=True),
        sa.Column("BackChannelLogoutSessionRequired", Bool(), nullable=False),
        sa.Column("AllowOfflineAccess", Bool(), nullable=False),
        sa.Column("IdentityTokenLifetime", sa.Integer(), nullable=False),
        sa.Column(
            "AllowedIdentityTokenSigningAlgorithms",
            _nvarchar(100),
            nullable=True,
        ),
        sa.Column("AccessTokenLifetime", sa.Integer(), nullable=False),
        sa.Column("AuthorizationCodeLifetime", sa.Integer(), nullable=False),
        sa.Column("ConsentLifetime", sa.Integer(), nullable=True),
        sa.Column("AbsoluteRefreshTokenLifetime", sa.Integer(), nullable=False),
        sa.Column("SlidingRefreshTokenLifetime", sa.Integer(), nullable=False),
        sa.Column("RefreshTokenUsage", sa.Integer(), nullable=False),
        sa.Column("UpdateAccessTokenClaimsOnRefresh", Bool(), nullable=False),
        sa.Column("RefreshTokenExpiration", sa.Integer(), nullable=False),
        sa.Column("AccessTokenType", sa.Integer(), nullable=False),
        sa.Column("EnableLocalLogin", Bool(), nullable=False),
        sa.Column("IncludeJwtId", Bool(), nullable=False),
        sa.Column("AlwaysSendClientClaims", Bool(), nullable=False),
        sa.Column("ClientClaimsPrefix", _nvarchar(200), nullable=True),
        sa.Column("PairWiseSubjectSalt", _nvarchar(200), nullable=True),
        sa.Column("UserSsoLifetime", sa.Integer(), nullable=True),
        sa.Column("UserCodeType", _nvarchar(100), nullable=True),
        sa.Column("DeviceCodeLifetime", sa.Integer(), nullable=False),
        sa.Column("CibaLifetime", sa.Integer(), nullable=True),
        sa.Column("PollingInterval", sa.Integer(), nullable=True),
        sa.Column("CoordinateLifetimeWithUserSession", Bool(), nullable=True),
        sa.Column("Created", UtcDateTime(), nullable=False),
        sa.Column("Updated", UtcDateTime(), nullable=True),
        sa.Column("LastAccessed", UtcDateTime(), nullable=True),
        sa.Column("NonEditable", Bool(), nullable=False),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_Clients")),
        sqlite_autoincrement=True,
    )
    op.create_index("IX_Clients_ClientId", "Clients", ["ClientId"], unique=True)
    op.create_table(
        "IdentityProviders",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("Scheme", _nvarchar(200), nullable=False),
        sa.Column("DisplayName", _nvarchar(200), nullable=True),
        sa.Column("Enabled", Bool(), nullable=False),
        sa.Column("Type", _nvarchar(20), nullable=False),
        sa.Column("Properties", sa.Text(), nullable=True),
        sa.Column("Created", UtcDateTime(), nullable=False),
        sa.Column("Updated", UtcDateTime(), nullable=True),
        sa.Column("LastAccessed", UtcDateTime(), nullable=True),
        sa.Column("NonEditable", Bool(), nullable=False),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_IdentityProviders")),
        sqlite_autoincrement=True,
    )
    op.create_index("IX_IdentityProviders_Scheme", "IdentityProviders", ["Scheme"], unique=True)
    op.create_table(
        "IdentityResources",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("Enabled", Bool(), nullable=False),
        sa.Column("Name", _nvarchar(200), nullable=False),
        sa.Column("DisplayName", _nvarchar(200), nullable=True),
        sa.Column("Description", _nvarchar(1000), nullable=True),
        sa.Column("Required", Bool(), nullable=False),
        sa.Column("Emphasize", Bool(), nullable=False),
        sa.Column("ShowInDiscoveryDocument", Bool(), nullable=False),
        sa.Column("Created", UtcDateTime(), nullable=False),
        sa.Column("Updated", UtcDateTime(), nullable=True),
        sa.Column("NonEditable", Bool(), nullable=False),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_IdentityResources")),
        sqlite_autoincrement=True,
    )
    op.create_index("IX_IdentityResources_Name", "IdentityResources", ["Name"], unique=True)
    op.create_table(
        "ApiResourceClaims",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("ApiResourceId", sa.Integer(), nullable=False),
        sa.Column("Type", _nvarchar(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["ApiResourceId"],
            ["ApiResources.Id"],
            name=op.f("FK_ApiResourceClaims_ApiResources_ApiResourceId"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ApiResourceClaims")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "IX_ApiResourceClaims_ApiResourceId_Type", "ApiResourceClaims", ["ApiResourceId", "Type"], unique=True
    )
    op.create_table(
        "ApiResourceProperties",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("ApiResourceId", sa.Integer(), nullable=False),
        sa.Column("Key", _nvarchar(250), nullable=False),
        sa.Column("Value", _nvarchar(2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["ApiResourceId"],
            ["ApiResources.Id"],
            name=op.f("FK_ApiResourceProperties_ApiResources_ApiResourceId"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ApiResourceProperties")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "IX_ApiResourceProperties_ApiResourceId_Key", "ApiResourceProperties", ["ApiResourceId", "Key"], unique=True
    )
    op.create_table(
        "ApiResourceScopes",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("Scope", _nvarchar(200), nullable=False),
        sa.Column("ApiResourceId", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ApiResourceId"],
            ["ApiResources.Id"],
            name=op.f("FK_ApiResourceScopes_ApiResources_ApiResourceId"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ApiResourceScopes")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "IX_ApiResourceScopes_ApiResourceId_Scope", "ApiResourceScopes", ["ApiResourceId", "Scope"], unique=True
    )
    op.create_table(
        "ApiResourceSecrets",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("ApiResourceId", sa.Integer(), nullable=False),
        sa.Column("Description", _nvarchar(1000), nullable=True),
        sa.Column("Value", _nvarchar(4000), nullable=False),
        sa.Column("Expiration", UtcDateTime(), nullable=True),
        sa.Column("Type", _nvarchar(250), nullable=False),
        sa.Column("Created", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ApiResourceId"],
            ["ApiResources.Id"],
            name=op.f("FK_ApiResourceSecrets_ApiResources_ApiResourceId"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ApiResourceSecrets")),
        sqlite_autoincrement=True,
    )
    op.create_index("IX_ApiResourceSecrets_ApiResourceId", "ApiResourceSecrets", ["ApiResourceId"])
    op.create_table(
        "ApiScopeClaims",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("ScopeId", sa.Integer(), nullable=False),
        sa.Column("Type", _nvarchar(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["ScopeId"], ["ApiScopes.Id"], name=op.f("FK_ApiScopeClaims_ApiScopes_ScopeId"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ApiScopeClaims")),
        sqlite_autoincrement=True,
    )
    op.create_index("IX_ApiScopeClaims_ScopeId_Type", "ApiScopeClaims", ["ScopeId", "Type"], unique=True)
    op.create_table(
        "ApiScopeProperties",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("ScopeId", sa.Integer(), nullable=False),
        sa.Column("Key", _nvarchar(250), nullable=False),
        sa.Column("Value", _nvarchar(2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["ScopeId"], ["ApiScopes.Id"], name=op.f("FK_ApiScopeProperties_ApiScopes_ScopeId"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ApiScopeProperties")),
        sqlite_autoincrement=True,
    )
    op.create_index("IX_ApiScopeProperties_ScopeId_Key", "ApiScopeProperties", ["ScopeId", "Key"], unique=True)
    op.create_table(
        "ClientClaims",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("Type", _nvarchar(250), nullable=False),
        sa.Column("Value", _nvarchar(250), nullable=False),
        sa.Column("ClientId", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ClientId"], ["Clients.Id"], name=op.f("FK_ClientClaims_Clients_ClientId"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ClientClaims")),
        sqlite_autoincrement=True,
    )
    op.create_index("IX_ClientClaims_ClientId_Type_Value", "ClientClaims", ["ClientId", "Type", "Value"], unique=True)
    op.create_table(
        "ClientCorsOrigins",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("Origin", _nvarchar(150), nullable=False),
        sa.Column("ClientId", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ClientId"], ["Clients.Id"], name=op.f("FK_ClientCorsOrigins_Clients_ClientId"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ClientCorsOrigins")),
        sqlite_autoincrement=True,
    )
    op.create_index("IX_ClientCorsOrigins_ClientId_Origin", "ClientCorsOrigins", ["ClientId", "Origin"], unique=True)
    op.create_table(
        "ClientGrantTypes",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("GrantType", _nvarchar(250), nullable=False),
        sa.Column("ClientId", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ClientId"], ["Clients.Id"], name=op.f("FK_ClientGrantTypes_Clients_ClientId"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ClientGrantTypes")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "IX_ClientGrantTypes_ClientId_GrantType", "ClientGrantTypes", ["ClientId", "GrantType"], unique=True
    )
    op.create_table(
        "ClientIdPRestrictions",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("Provider", _nvarchar(200), nullable=False),
        sa.Column("ClientId", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ClientId"], ["Clients.Id"], name=op.f("FK_ClientIdPRestrictions_Clients_ClientId"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ClientIdPRestrictions")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "IX_ClientIdPRestrictions_ClientId_Provider", "ClientIdPRestrictions", ["ClientId", "Provider"], unique=True
    )
    op.create_table(
        "ClientPostLogoutRedirectUris",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("PostLogoutRedirectUri", _nvarchar(400), nullable=False),
        sa.Column("ClientId", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ClientId"],
            ["Clients.Id"],
            name=op.f("FK_ClientPostLogoutRedirectUris_Clients_ClientId"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ClientPostLogoutRedirectUris")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "IX_ClientPostLogoutRedirectUris_ClientId_PostLogoutRedirectUri",
        "ClientPostLogoutRedirectUris",
        ["ClientId", "PostLogoutRedirectUri"],
        unique=True,
    )
    op.create_table(
        "ClientProperties",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("ClientId", sa.Integer(), nullable=False),
        sa.Column("Key", _nvarchar(250), nullable=False),
        sa.Column("Value", _nvarchar(2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["ClientId"], ["Clients.Id"], name=op.f("FK_ClientProperties_Clients_ClientId"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ClientProperties")),
        sqlite_autoincrement=True,
    )
    op.create_index("IX_ClientProperties_ClientId_Key", "ClientProperties", ["ClientId", "Key"], unique=True)
    op.create_table(
        "ClientRedirectUris",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("RedirectUri", _nvarchar(400), nullable=False),
        sa.Column("ClientId", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ClientId"], ["Clients.Id"], name=op.f("FK_ClientRedirectUris_Clients_ClientId"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ClientRedirectUris")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "IX_ClientRedirectUris_ClientId_RedirectUri", "ClientRedirectUris", ["ClientId", "RedirectUri"], unique=True
    )
    op.create_table(
        "ClientScopes",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("Scope", _nvarchar(200), nullable=False),
        sa.Column("ClientId", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ClientId"], ["Clients.Id"], name=op.f("FK_ClientScopes_Clients_ClientId"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ClientScopes")),
        sqlite_autoincrement=True,
    )
    op.create_index("IX_ClientScopes_ClientId_Scope", "ClientScopes", ["ClientId", "Scope"], unique=True)
    op.create_table(
        "ClientSecrets",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("ClientId", sa.Integer(), nullable=False),
        sa.Column("Description", _nvarchar(2000), nullable=True),
        sa.Column("Value", _nvarchar(4000), nullable=False),
        sa.Column("Expiration", UtcDateTime(), nullable=True),
        sa.Column("Type", _nvarchar(250), nullable=False),
        sa.Column("Created", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ClientId"], ["Clients.Id"], name=op.f("FK_ClientSecrets_Clients_ClientId"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_ClientSecrets")),
        sqlite_autoincrement=True,
    )
    op.create_index("IX_ClientSecrets_ClientId", "ClientSecrets", ["ClientId"])
    op.create_table(
        "IdentityResourceClaims",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("IdentityResourceId", sa.Integer(), nullable=False),
        sa.Column("Type", _nvarchar(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["IdentityResourceId"],
            ["IdentityResources.Id"],
            name=op.f("FK_IdentityResourceClaims_IdentityResources_IdentityResourceId"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_IdentityResourceClaims")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "IX_IdentityResourceClaims_IdentityResourceId_Type",
        "IdentityResourceClaims",
        ["IdentityResourceId", "Type"],
        unique=True,
    )
    op.create_table(
        "IdentityResourceProperties",
        sa.Column("Id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("IdentityResourceId", sa.Integer(), nullable=False),
        sa.Column("Key", _nvarchar(250), nullable=False),
        sa.Column("Value", _nvarchar(2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["IdentityResourceId"],
            ["IdentityResources.Id"],
            name=op.f("FK_IdentityResourceProperties_IdentityResources_IdentityResourceId"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("Id", name=op.f("PK_IdentityResourceProperties")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "IX_IdentityResourceProperties_IdentityResourceId_Key",
        "IdentityResourceProperties",
        ["IdentityResourceId", "Key"],
        unique=True,
    )
