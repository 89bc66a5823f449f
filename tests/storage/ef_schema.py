"""IdentityServer's EF schema written out by hand from its generated migration scripts (6.2:
20220324152912_Configuration / 20220324152905_Grants; 6.3 adds four Clients columns), rendered as the SQL that
EF Core's SQLite and Npgsql providers emit. Independent of this server's entities on purpose."""

from __future__ import annotations

from dataclasses import dataclass

# column spec: "Name:type" with type id (int identity PK), lid (bigint identity PK), bool, int, sN (nvarchar(N)),
# max (nvarchar(max)), dt (datetime2), ts (TimeSpan); a trailing "?" marks NULL; "pk" after the type marks a key
TABLES: list[tuple[str, str, list[tuple[str, str]], list[tuple[str, bool]]]] = [
    (
        "ApiResources",
        "Id:id Enabled:bool Name:s200 DisplayName:s200? Description:s1000? "
        "AllowedAccessTokenSigningAlgorithms:s100? ShowInDiscoveryDocument:bool RequireResourceIndicator:bool "
        "Created:dt Updated:dt? LastAccessed:dt? NonEditable:bool",
        [],
        [("Name", True)],
    ),
    (
        "ApiScopes",
        "Id:id Enabled:bool Name:s200 DisplayName:s200? Description:s1000? Required:bool Emphasize:bool "
        "ShowInDiscoveryDocument:bool Created:dt Updated:dt? LastAccessed:dt? NonEditable:bool",
        [],
        [("Name", True)],
    ),
    (
        "Clients",
        "Id:id Enabled:bool ClientId:s200 ProtocolType:s200 RequireClientSecret:bool ClientName:s200? "
        "Description:s1000? ClientUri:s2000? LogoUri:s2000? RequireConsent:bool AllowRememberConsent:bool "
        "AlwaysIncludeUserClaimsInIdToken:bool RequirePkce:bool AllowPlainTextPkce:bool RequireRequestObject:bool "
        "AllowAccessTokensViaBrowser:bool FrontChannelLogoutUri:s2000? FrontChannelLogoutSessionRequired:bool "
        "BackChannelLogoutUri:s2000? BackChannelLogoutSessionRequired:bool AllowOfflineAccess:bool "
        "IdentityTokenLifetime:int AllowedIdentityTokenSigningAlgorithms:s100? AccessTokenLifetime:int "
        "AuthorizationCodeLifetime:int ConsentLifetime:int? AbsoluteRefreshTokenLifetime:int "
        "SlidingRefreshTokenLifetime:int RefreshTokenUsage:int UpdateAccessTokenClaimsOnRefresh:bool "
        "RefreshTokenExpiration:int AccessTokenType:int EnableLocalLogin:bool IncludeJwtId:bool "
        "AlwaysSendClientClaims:bool ClientClaimsPrefix:s200? PairWiseSubjectSalt:s200? UserSsoLifetime:int? "
        "UserCodeType:s100? DeviceCodeLifetime:int CibaLifetime:int? PollingInterval:int? "
        "CoordinateLifetimeWithUserSession:bool? Created:dt Updated:dt? LastAccessed:dt? NonEditable:bool",
        [],
        [("ClientId", True)],
    ),
    (
        "DeviceCodes",
        "UserCode:s200:pk DeviceCode:s200 SubjectId:s200? SessionId:s100? ClientId:s200 "
        "Description:s200? CreationTime:dt Expiration:dt Data:max",
        [],
        [("DeviceCode", True), ("Expiration", False)],
    ),
    (
        "IdentityProviders",
        "Id:id Scheme:s200 DisplayName:s200? Enabled:bool Type:s20 Properties:max? Created:dt "
        "Updated:dt? LastAccessed:dt? NonEditable:bool",
        [],
        [("Scheme", True)],
    ),
    (
        "IdentityResources",
        "Id:id Enabled:bool Name:s200 DisplayName:s200? Description:s1000? Required:bool "
        "Emphasize:bool ShowInDiscoveryDocument:bool Created:dt Updated:dt? NonEditable:bool",
        [],
        [("Name", True)],
    ),
    (
        "Keys",
        "Id:s450:pk Version:int Created:dt Use:s450? Algorithm:s100 IsX509Certificate:bool DataProtected:bool Data:max",
        [],
        [("Use", False)],
    ),
    (
        "PersistedGrants",
        "Id:lid Key:s200? Type:s50 SubjectId:s200? SessionId:s100? ClientId:s200 Description:s200? "
        "CreationTime:dt Expiration:dt? ConsumedTime:dt? Data:max",
        [],
        [
            ("ConsumedTime", False),
            ("Expiration", False),
            ("Key", True),
            ("SubjectId,ClientId,Type", False),
            ("SubjectId,SessionId,Type", False),
        ],
    ),
    (
        "ServerSideSessions",
        "Id:id Key:s100 Scheme:s100 SubjectId:s100 SessionId:s100? DisplayName:s100? Created:dt "
        "Renewed:dt Expires:dt? Data:max",
        [],
        [("DisplayName", False), ("Expires", False), ("Key", True), ("SessionId", False), ("SubjectId", False)],
    ),
    (
        "ApiResourceClaims",
        "Id:id ApiResourceId:int Type:s200",
        [("ApiResourceId", "ApiResources")],
        [("ApiResourceId,Type", True)],
    ),
    (
        "ApiResourceProperties",
        "Id:id ApiResourceId:int Key:s250 Value:s2000",
        [("ApiResourceId", "ApiResources")],
        [("ApiResourceId,Key", True)],
    ),
    (
        "ApiResourceScopes",
        "Id:id Scope:s200 ApiResourceId:int",
        [("ApiResourceId", "ApiResources")],
        [("ApiResourceId,Scope", True)],
    ),
    (
        "ApiResourceSecrets",
        "Id:id ApiResourceId:int Description:s1000? Value:s4000 Expiration:dt? Type:s250 Created:dt",
        [("ApiResourceId", "ApiResources")],
        [("ApiResourceId", False)],
    ),
    ("ApiScopeClaims", "Id:id ScopeId:int Type:s200", [("ScopeId", "ApiScopes")], [("ScopeId,Type", True)]),
    (
        "ApiScopeProperties",
        "Id:id ScopeId:int Key:s250 Value:s2000",
        [("ScopeId", "ApiScopes")],
        [("ScopeId,Key", True)],
    ),
    (
        "ClientClaims",
        "Id:id Type:s250 Value:s250 ClientId:int",
        [("ClientId", "Clients")],
        [("ClientId,Type,Value", True)],
    ),
    ("ClientCorsOrigins", "Id:id Origin:s150 ClientId:int", [("ClientId", "Clients")], [("ClientId,Origin", True)]),
    (
        "ClientGrantTypes",
        "Id:id GrantType:s250 ClientId:int",
        [("ClientId", "Clients")],
        [("ClientId,GrantType", True)],
    ),
    (
        "ClientIdPRestrictions",
        "Id:id Provider:s200 ClientId:int",
        [("ClientId", "Clients")],
        [("ClientId,Provider", True)],
    ),
    (
        "ClientPostLogoutRedirectUris",
        "Id:id PostLogoutRedirectUri:s400 ClientId:int",
        [("ClientId", "Clients")],
        [("ClientId,PostLogoutRedirectUri", True)],
    ),
    (
        "ClientProperties",
        "Id:id ClientId:int Key:s250 Value:s2000",
        [("ClientId", "Clients")],
        [("ClientId,Key", True)],
    ),
    (
        "ClientRedirectUris",
        "Id:id RedirectUri:s400 ClientId:int",
        [("ClientId", "Clients")],
        [("ClientId,RedirectUri", True)],
    ),
    ("ClientScopes", "Id:id Scope:s200 ClientId:int", [("ClientId", "Clients")], [("ClientId,Scope", True)]),
    (
        "ClientSecrets",
        "Id:id ClientId:int Description:s2000? Value:s4000 Expiration:dt? Type:s250 Created:dt",
        [("ClientId", "Clients")],
        [("ClientId", False)],
    ),
    (
        "IdentityResourceClaims",
        "Id:id IdentityResourceId:int Type:s200",
        [("IdentityResourceId", "IdentityResources")],
        [("IdentityResourceId,Type", True)],
    ),
    (
        "IdentityResourceProperties",
        "Id:id IdentityResourceId:int Key:s250 Value:s2000",
        [("IdentityResourceId", "IdentityResources")],
        [("IdentityResourceId,Key", True)],
    ),
]

# EF's 6.3 upgrade migration for Clients (dotnet ef migrations add, upgrade guide Step 2)
NEW_IN_6_3 = [
    ("RequireDPoP", "bool", "0", "false"),
    ("DPoPValidationMode", "int", "0", "0"),
    ("DPoPClockSkew", "ts", "'00:00:00'", "INTERVAL '00:00:00'"),
    ("InitiateLoginUri", "s2000?", None, None),
]


@dataclass
class Column:
    name: str
    type: str
    nullable: bool
    pk: bool = False


def columns(spec: str) -> list[Column]:
    result = []
    for item in spec.split():
        name, kind, *flags = item.split(":")
        nullable = kind.endswith("?")
        result.append(Column(name, kind.rstrip("?"), nullable, bool(flags) or kind in ("id", "lid")))
    return result


def table_columns(version: str) -> dict[str, list[Column]]:
    result = {name: columns(spec) for name, spec, _, _ in TABLES}
    if version == "6.3":
        for name, kind, _, _ in NEW_IN_6_3:
            result["Clients"].append(Column(name, kind.rstrip("?"), kind.endswith("?")))
    return result


SQLITE_TYPES = {"bool": "INTEGER", "int": "INTEGER", "max": "TEXT", "dt": "TEXT", "ts": "TEXT"}
PG_TYPES = {
    "bool": "boolean",
    "int": "integer",
    "max": "text",
    "dt": "timestamp with time zone",
    "ts": "interval",
    "id": "integer",
    "lid": "bigint",
}


def sqlite_type(kind: str) -> str:
    return "INTEGER" if kind in ("id", "lid") else SQLITE_TYPES.get(kind, "TEXT")


def pg_type(kind: str) -> str:
    return PG_TYPES.get(kind) or f"character varying({kind[1:]})"


def ddl(dialect: str, version: str = "6.2") -> list[str]:
    """The statements of EF's generated creation script for ``dialect`` ("sqlite" or "postgresql")."""
    statements = []
    history_type = "TEXT" if dialect == "sqlite" else "character varying(150)"
    if dialect == "sqlite":
        statements.append(
            'CREATE TABLE "__EFMigrationsHistory" ("MigrationId" TEXT NOT NULL CONSTRAINT '
            '"PK___EFMigrationsHistory" PRIMARY KEY, "ProductVersion" TEXT NOT NULL)'
        )
    else:
        statements.append(
            f'CREATE TABLE "__EFMigrationsHistory" ("MigrationId" {history_type} NOT NULL, '
            '"ProductVersion" character varying(32) NOT NULL, '
            'CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY ("MigrationId"))'
        )
    cols_by_table = table_columns(version)
    for name, _, fks, indexes in TABLES:
        lines = []
        pk = None
        for col in cols_by_table[name]:
            null = "NULL" if col.nullable else "NOT NULL"
            if dialect == "sqlite":
                if col.pk:
                    auto = " AUTOINCREMENT" if col.type in ("id", "lid") else ""
                    lines.append(
                        f'"{col.name}" {sqlite_type(col.type)} NOT NULL CONSTRAINT "PK_{name}" PRIMARY KEY{auto}'
                    )
                else:
                    lines.append(f'"{col.name}" {sqlite_type(col.type)} {null}')
            else:
                identity = " GENERATED BY DEFAULT AS IDENTITY" if col.type in ("id", "lid") else ""
                if identity:
                    lines.append(f'"{col.name}" {pg_type(col.type)}{identity}')
                else:
                    lines.append(f'"{col.name}" {pg_type(col.type)} {"NOT NULL" if col.pk else null}')
                if col.pk:
                    pk = col.name
        if pk:
            lines.append(f'CONSTRAINT "PK_{name}" PRIMARY KEY ("{pk}")')
        for column, parent in fks:
            lines.append(
                f'CONSTRAINT "FK_{name}_{parent}_{column}" FOREIGN KEY ("{column}") REFERENCES "{parent}" ("Id") '
                "ON DELETE CASCADE"
            )
        statements.append(f'CREATE TABLE "{name}" (\n    ' + ",\n    ".join(lines) + "\n)")
    for name, _, _, indexes in TABLES:
        for cols, unique in indexes:
            names = cols.split(",")
            quoted = ", ".join(f'"{c}"' for c in names)
            statements.append(
                f'CREATE {"UNIQUE " if unique else ""}INDEX "IX_{name}_{"_".join(names)}" ON "{name}" ({quoted})'
            )
    migrations = (
        ["20220324152905_Grants", "20220324152912_Configuration"]
        if version == "6.2"
        else ["20230410170347_Grants", "20230410170353_Configuration"]
    )
    for migration in migrations:
        statements.append(
            f'INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion") VALUES (\'{migration}\', \'6.0.3\')'
        )
    return statements


def upgrade_6_3_ddl(dialect: str) -> list[str]:
    """EF's generated 6.2 -> 6.3 upgrade for Clients (non-nullable adds carry the CLR default)."""
    statements = []
    for name, kind, sqlite_default, pg_default in NEW_IN_6_3:
        if dialect == "sqlite":
            default = f" NOT NULL DEFAULT {sqlite_default}" if sqlite_default else " NULL"
            statements.append(f'ALTER TABLE "Clients" ADD "{name}" {sqlite_type(kind.rstrip("?"))}{default}')
        else:
            default = f" NOT NULL DEFAULT {pg_default}" if pg_default else " NULL"
            statements.append(f'ALTER TABLE "Clients" ADD "{name}" {pg_type(kind.rstrip("?"))}{default}')
    return statements
