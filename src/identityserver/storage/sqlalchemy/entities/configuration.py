"""IdentityServer's ``ConfigurationDbContext`` tables at 6.3 (Duende ``EntityFramework.Storage/Entities``:
``Client`` and its child tables, ``ApiResource``, ``ApiScope``, ``IdentityResource``, ``IdentityProvider``) as
SQLAlchemy Core tables, and the parent/child structure EF's navigation properties describe (:class:`Aggregate`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Column, ForeignKey, Identity, Integer, Table
from sqlalchemy.schema import SchemaItem

from identityserver.storage.sqlalchemy.entities.base import ix, metadata
from identityserver.storage.sqlalchemy.entities.types import Bool, TimeSpan, UtcDateTime, nvarchar


def _table(name: str, *items: SchemaItem) -> Table:
    """A table with EF's ``int`` identity key ``Id`` first. The migrations create it with ``AUTOINCREMENT`` on
    SQLite, as EF does; the runtime table leaves out ``sqlite_autoincrement``, a dialect keyword that would load
    SQLAlchemy's SQLite dialect in every PostgreSQL worker (and changes only ``CREATE TABLE``)."""
    return Table(name, metadata, Column("Id", Integer, Identity(), primary_key=True), *items)


def _parent(column: str, table: str) -> Column[Any]:
    """The required foreign key of a child row (``ON DELETE CASCADE``, as EF creates it)."""
    return Column(column, Integer, ForeignKey(f"{table}.Id", ondelete="CASCADE"), nullable=False)


# -- Client ----------------------------------------------------------------------------------------------------

clients = _table(
    "Clients",
    Column("Enabled", Bool, nullable=False),
    Column("ClientId", nvarchar(200), nullable=False),
    Column("ProtocolType", nvarchar(200), nullable=False),
    Column("RequireClientSecret", Bool, nullable=False),
    Column("ClientName", nvarchar(200), nullable=True),
    Column("Description", nvarchar(1000), nullable=True),
    Column("ClientUri", nvarchar(2000), nullable=True),
    Column("LogoUri", nvarchar(2000), nullable=True),
    Column("RequireConsent", Bool, nullable=False),
    Column("AllowRememberConsent", Bool, nullable=False),
    Column("AlwaysIncludeUserClaimsInIdToken", Bool, nullable=False),
    Column("RequirePkce", Bool, nullable=False),
    Column("AllowPlainTextPkce", Bool, nullable=False),
    Column("RequireRequestObject", Bool, nullable=False),
    Column("AllowAccessTokensViaBrowser", Bool, nullable=False),
    Column("RequireDPoP", Bool, nullable=False),
    Column("DPoPValidationMode", Integer, nullable=False),
    Column("DPoPClockSkew", TimeSpan, nullable=False),
    Column("FrontChannelLogoutUri", nvarchar(2000), nullable=True),
    Column("FrontChannelLogoutSessionRequired", Bool, nullable=False),
    Column("BackChannelLogoutUri", nvarchar(2000), nullable=True),
    Column("BackChannelLogoutSessionRequired", Bool, nullable=False),
    Column("AllowOfflineAccess", Bool, nullable=False),
    Column("IdentityTokenLifetime", Integer, nullable=False),
    Column("AllowedIdentityTokenSigningAlgorithms", nvarchar(100), nullable=True),
    Column("AccessTokenLifetime", Integer, nullable=False),
    Column("AuthorizationCodeLifetime", Integer, nullable=False),
    Column("ConsentLifetime", Integer, nullable=True),
    Column("AbsoluteRefreshTokenLifetime", Integer, nullable=False),
    Column("SlidingRefreshTokenLifetime", Integer, nullable=False),
    Column("RefreshTokenUsage", Integer, nullable=False),
    Column("UpdateAccessTokenClaimsOnRefresh", Bool, nullable=False),
    Column("RefreshTokenExpiration", Integer, nullable=False),
    Column("AccessTokenType", Integer, nullable=False),
    Column("EnableLocalLogin", Bool, nullable=False),
    Column("IncludeJwtId", Bool, nullable=False),
    Column("AlwaysSendClientClaims", Bool, nullable=False),
    Column("ClientClaimsPrefix", nvarchar(200), nullable=True),
    Column("PairWiseSubjectSalt", nvarchar(200), nullable=True),
    Column("InitiateLoginUri", nvarchar(2000), nullable=True),
    Column("UserSsoLifetime", Integer, nullable=True),
    Column("UserCodeType", nvarchar(100), nullable=True),
    Column("DeviceCodeLifetime", Integer, nullable=False),
    Column("CibaLifetime", Integer, nullable=True),
    Column("PollingInterval", Integer, nullable=True),
    Column("CoordinateLifetimeWithUserSession", Bool, nullable=True),
    Column("Created", UtcDateTime, nullable=False),
    Column("Updated", UtcDateTime, nullable=True),
    Column("LastAccessed", UtcDateTime, nullable=True),
    Column("NonEditable", Bool, nullable=False),
    ix("Clients", "ClientId", unique=True),
)

client_claims = _table(
    "ClientClaims",
    Column("Type", nvarchar(250), nullable=False),
    Column("Value", nvarchar(250), nullable=False),
    _parent("ClientId", "Clients"),
    ix("ClientClaims", "ClientId", "Type", "Value", unique=True),
)

client_cors_origins = _table(
    "ClientCorsOrigins",
    Column("Origin", nvarchar(150), nullable=False),
    _parent("ClientId", "Clients"),
    ix("ClientCorsOrigins", "ClientId", "Origin", unique=True),
)

client_grant_types = _table(
    "ClientGrantTypes",
    Column("GrantType", nvarchar(250), nullable=False),
    _parent("ClientId", "Clients"),
    ix("ClientGrantTypes", "ClientId", "GrantType", unique=True),
)

client_idp_restrictions = _table(
    "ClientIdPRestrictions",
    Column("Provider", nvarchar(200), nullable=False),
    _parent("ClientId", "Clients"),
    ix("ClientIdPRestrictions", "ClientId", "Provider", unique=True),
)

client_post_logout_redirect_uris = _table(
    "ClientPostLogoutRedirectUris",
    Column("PostLogoutRedirectUri", nvarchar(400), nullable=False),
    _parent("ClientId", "Clients"),
    ix("ClientPostLogoutRedirectUris", "ClientId", "PostLogoutRedirectUri", unique=True),
)

client_properties = _table(
    "ClientProperties",
    _parent("ClientId", "Clients"),
    Column("Key", nvarchar(250), nullable=False),
    Column("Value", nvarchar(2000), nullable=False),
    ix("ClientProperties", "ClientId", "Key", unique=True),
)

client_redirect_uris = _table(
    "ClientRedirectUris",
    Column("RedirectUri", nvarchar(400), nullable=False),
    _parent("ClientId", "Clients"),
    ix("ClientRedirectUris", "ClientId", "RedirectUri", unique=True),
)

client_scopes = _table(
    "ClientScopes",
    Column("Scope", nvarchar(200), nullable=False),
    _parent("ClientId", "Clients"),
    ix("ClientScopes", "ClientId", "Scope", unique=True),
)

client_secrets = _table(
    "ClientSecrets",
    _parent("ClientId", "Clients"),
    Column("Description", nvarchar(2000), nullable=True),
    Column("Value", nvarchar(4000), nullable=False),
    Column("Expiration", UtcDateTime, nullable=True),
    Column("Type", nvarchar(250), nullable=False),
    Column("Created", UtcDateTime, nullable=False),
    ix("ClientSecrets", "ClientId"),
)

# -- ApiResource -----------------------------------------------------------------------------------------------

api_resources = _table(
    "ApiResources",
    Column("Enabled", Bool, nullable=False),
    Column("Name", nvarchar(200), nullable=False),
    Column("DisplayName", nvarchar(200), nullable=True),
    Column("Description", nvarchar(1000), nullable=True),
    Column("AllowedAccessTokenSigningAlgorithms", nvarchar(100), nullable=True),
    Column("ShowInDiscoveryDocument", Bool, nullable=False),
    Column("RequireResourceIndicator", Bool, nullable=False),
    Column("Created", UtcDateTime, nullable=False),
    Column("Updated", UtcDateTime, nullable=True),
    Column("LastAccessed", UtcDateTime, nullable=True),
    Column("NonEditable", Bool, nullable=False),
    ix("ApiResources", "Name", unique=True),
)

api_resource_claims = _table(
    "ApiResourceClaims",
    _parent("ApiResourceId", "ApiResources"),
    Column("Type", nvarchar(200), nullable=False),
    ix("ApiResourceClaims", "ApiResourceId", "Type", unique=True),
)

api_resource_properties = _table(
    "ApiResourceProperties",
    _parent("ApiResourceId", "ApiResources"),
    Column("Key", nvarchar(250), nullable=False),
    Column("Value", nvarchar(2000), nullable=False),
    ix("ApiResourceProperties", "ApiResourceId", "Key", unique=True),
)

api_resource_scopes = _table(
    "ApiResourceScopes",
    Column("Scope", nvarchar(200), nullable=False),
    _parent("ApiResourceId", "ApiResources"),
    ix("ApiResourceScopes", "ApiResourceId", "Scope", unique=True),
)

api_resource_secrets = _table(
    "ApiResourceSecrets",
    _parent("ApiResourceId", "ApiResources"),
    Column("Description", nvarchar(1000), nullable=True),
    Column("Value", nvarchar(4000), nullable=False),
    Column("Expiration", UtcDateTime, nullable=True),
    Column("Type", nvarchar(250), nullable=False),
    Column("Created", UtcDateTime, nullable=False),
    ix("ApiResourceSecrets", "ApiResourceId"),
)

# -- ApiScope --------------------------------------------------------------------------------------------------

api_scopes = _table(
    "ApiScopes",
    Column("Enabled", Bool, nullable=False),
    Column("Name", nvarchar(200), nullable=False),
    Column("DisplayName", nvarchar(200), nullable=True),
    Column("Description", nvarchar(1000), nullable=True),
    Column("Required", Bool, nullable=False),
    Column("Emphasize", Bool, nullable=False),
    Column("ShowInDiscoveryDocument", Bool, nullable=False),
    Column("Created", UtcDateTime, nullable=False),
    Column("Updated", UtcDateTime, nullable=True),
    Column("LastAccessed", UtcDateTime, nullable=True),
    Column("NonEditable", Bool, nullable=False),
    ix("ApiScopes", "Name", unique=True),
)

api_scope_claims = _table(
    "ApiScopeClaims",
    _parent("ScopeId", "ApiScopes"),
    Column("Type", nvarchar(200), nullable=False),
    ix("ApiScopeClaims", "ScopeId", "Type", unique=True),
)

api_scope_properties = _table(
    "ApiScopeProperties",
    _parent("ScopeId", "ApiScopes"),
    Column("Key", nvarchar(250), nullable=False),
    Column("Value", nvarchar(2000), nullable=False),
    ix("ApiScopeProperties", "ScopeId", "Key", unique=True),
)

# -- IdentityResource ------------------------------------------------------------------------------------------

identity_resources = _table(
    "IdentityResources",
    Column("Enabled", Bool, nullable=False),
    Column("Name", nvarchar(200), nullable=False),
    Column("DisplayName", nvarchar(200), nullable=True),
    Column("Description", nvarchar(1000), nullable=True),
    Column("Required", Bool, nullable=False),
    Column("Emphasize", Bool, nullable=False),
    Column("ShowInDiscoveryDocument", Bool, nullable=False),
    Column("Created", UtcDateTime, nullable=False),
    Column("Updated", UtcDateTime, nullable=True),
    Column("NonEditable", Bool, nullable=False),
    ix("IdentityResources", "Name", unique=True),
)

identity_resource_claims = _table(
    "IdentityResourceClaims",
    _parent("IdentityResourceId", "IdentityResources"),
    Column("Type", nvarchar(200), nullable=False),
    ix("IdentityResourceClaims", "IdentityResourceId", "Type", unique=True),
)

identity_resource_properties = _table(
    "IdentityResourceProperties",
    _parent("IdentityResourceId", "IdentityResources"),
    Column("Key", nvarchar(250), nullable=False),
    Column("Value", nvarchar(2000), nullable=False),
    ix("IdentityResourceProperties", "IdentityResourceId", "Key", unique=True),
)

# -- IdentityProvider (dynamic identity providers; kept so that the schema is complete) --------------------------

identity_providers = _table(
    "IdentityProviders",
    Column("Scheme", nvarchar(200), nullable=False),
    Column("DisplayName", nvarchar(200), nullable=True),
    Column("Enabled", Bool, nullable=False),
    Column("Type", nvarchar(20), nullable=False),
    Column("Properties", nvarchar(), nullable=True),
    Column("Created", UtcDateTime, nullable=False),
    Column("Updated", UtcDateTime, nullable=True),
    Column("LastAccessed", UtcDateTime, nullable=True),
    Column("NonEditable", Bool, nullable=False),
    ix("IdentityProviders", "Scheme", unique=True),
)


# -- parents and children --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Aggregate:
    """A configuration entity stored as a row of ``table`` (found by its unique ``key`` column) and rows of
    ``children`` that point at its ``Id`` through their ``foreign_key`` column (EF's child collections)."""

    table: Table
    key: str
    foreign_key: str
    children: tuple[Table, ...]


CLIENT = Aggregate(
    clients,
    "ClientId",
    "ClientId",
    (
        client_grant_types,
        client_redirect_uris,
        client_post_logout_redirect_uris,
        client_scopes,
        client_secrets,
        client_claims,
        client_idp_restrictions,
        client_cors_origins,
        client_properties,
    ),
)
API_RESOURCE = Aggregate(
    api_resources,
    "Name",
    "ApiResourceId",
    (api_resource_secrets, api_resource_scopes, api_resource_claims, api_resource_properties),
)
API_SCOPE = Aggregate(api_scopes, "Name", "ScopeId", (api_scope_claims, api_scope_properties))
IDENTITY_RESOURCE = Aggregate(
    identity_resources, "Name", "IdentityResourceId", (identity_resource_claims, identity_resource_properties)
)
