"""IdentityServer's ``ConfigurationDbContext`` tables at 6.3 (Duende ``EntityFramework.Storage/Entities``:
``Client`` and its child tables, ``ApiResource``, ``ApiScope``, ``IdentityResource``, ``IdentityProvider``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Identity, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from identityserver.storage.sqlalchemy.entities.base import Base, ix
from identityserver.storage.sqlalchemy.entities.types import Bool, TimeSpan, UtcDateTime, nvarchar

_SQLITE: dict[str, Any] = {"sqlite_autoincrement": True}
_CHILD = "all, delete-orphan"


def _id() -> Mapped[int]:
    return mapped_column(Integer, Identity(), primary_key=True)


def _children(entity: str) -> Mapped[list[Any]]:
    """A child collection: loaded with the parent (one SELECT per collection), in insertion order."""
    return relationship(entity, cascade=_CHILD, lazy="selectin", order_by=f"{entity}.Id")


def _parent(table: str) -> Mapped[int]:
    return mapped_column(Integer, ForeignKey(f"{table}.Id", ondelete="CASCADE"))


class ClientEntity(Base):
    __tablename__ = "Clients"
    __table_args__ = (ix("Clients", "ClientId", unique=True), _SQLITE)

    Id: Mapped[int] = _id()
    Enabled: Mapped[bool] = mapped_column(Bool)
    ClientId: Mapped[str] = mapped_column(nvarchar(200))
    ProtocolType: Mapped[str] = mapped_column(nvarchar(200))
    RequireClientSecret: Mapped[bool] = mapped_column(Bool)
    ClientName: Mapped[str | None] = mapped_column(nvarchar(200))
    Description: Mapped[str | None] = mapped_column(nvarchar(1000))
    ClientUri: Mapped[str | None] = mapped_column(nvarchar(2000))
    LogoUri: Mapped[str | None] = mapped_column(nvarchar(2000))
    RequireConsent: Mapped[bool] = mapped_column(Bool)
    AllowRememberConsent: Mapped[bool] = mapped_column(Bool)
    AlwaysIncludeUserClaimsInIdToken: Mapped[bool] = mapped_column(Bool)
    RequirePkce: Mapped[bool] = mapped_column(Bool)
    AllowPlainTextPkce: Mapped[bool] = mapped_column(Bool)
    RequireRequestObject: Mapped[bool] = mapped_column(Bool)
    AllowAccessTokensViaBrowser: Mapped[bool] = mapped_column(Bool)
    RequireDPoP: Mapped[bool] = mapped_column(Bool)
    DPoPValidationMode: Mapped[int] = mapped_column(Integer)
    DPoPClockSkew: Mapped[timedelta] = mapped_column(TimeSpan)
    FrontChannelLogoutUri: Mapped[str | None] = mapped_column(nvarchar(2000))
    FrontChannelLogoutSessionRequired: Mapped[bool] = mapped_column(Bool)
    BackChannelLogoutUri: Mapped[str | None] = mapped_column(nvarchar(2000))
    BackChannelLogoutSessionRequired: Mapped[bool] = mapped_column(Bool)
    AllowOfflineAccess: Mapped[bool] = mapped_column(Bool)
    IdentityTokenLifetime: Mapped[int] = mapped_column(Integer)
    AllowedIdentityTokenSigningAlgorithms: Mapped[str | None] = mapped_column(nvarchar(100))
    AccessTokenLifetime: Mapped[int] = mapped_column(Integer)
    AuthorizationCodeLifetime: Mapped[int] = mapped_column(Integer)
    ConsentLifetime: Mapped[int | None] = mapped_column(Integer)
    AbsoluteRefreshTokenLifetime: Mapped[int] = mapped_column(Integer)
    SlidingRefreshTokenLifetime: Mapped[int] = mapped_column(Integer)
    RefreshTokenUsage: Mapped[int] = mapped_column(Integer)
    UpdateAccessTokenClaimsOnRefresh: Mapped[bool] = mapped_column(Bool)
    RefreshTokenExpiration: Mapped[int] = mapped_column(Integer)
    AccessTokenType: Mapped[int] = mapped_column(Integer)
    EnableLocalLogin: Mapped[bool] = mapped_column(Bool)
    IncludeJwtId: Mapped[bool] = mapped_column(Bool)
    AlwaysSendClientClaims: Mapped[bool] = mapped_column(Bool)
    ClientClaimsPrefix: Mapped[str | None] = mapped_column(nvarchar(200))
    PairWiseSubjectSalt: Mapped[str | None] = mapped_column(nvarchar(200))
    InitiateLoginUri: Mapped[str | None] = mapped_column(nvarchar(2000))
    UserSsoLifetime: Mapped[int | None] = mapped_column(Integer)
    UserCodeType: Mapped[str | None] = mapped_column(nvarchar(100))
    DeviceCodeLifetime: Mapped[int] = mapped_column(Integer)
    CibaLifetime: Mapped[int | None] = mapped_column(Integer)
    PollingInterval: Mapped[int | None] = mapped_column(Integer)
    CoordinateLifetimeWithUserSession: Mapped[bool | None] = mapped_column(Bool)
    Created: Mapped[datetime] = mapped_column(UtcDateTime)
    Updated: Mapped[datetime | None] = mapped_column(UtcDateTime)
    LastAccessed: Mapped[datetime | None] = mapped_column(UtcDateTime)
    NonEditable: Mapped[bool] = mapped_column(Bool)

    AllowedGrantTypes: Mapped[list[ClientGrantTypeEntity]] = _children("ClientGrantTypeEntity")
    RedirectUris: Mapped[list[ClientRedirectUriEntity]] = _children("ClientRedirectUriEntity")
    PostLogoutRedirectUris: Mapped[list[ClientPostLogoutRedirectUriEntity]] = _children(
        "ClientPostLogoutRedirectUriEntity"
    )
    AllowedScopes: Mapped[list[ClientScopeEntity]] = _children("ClientScopeEntity")
    ClientSecrets: Mapped[list[ClientSecretEntity]] = _children("ClientSecretEntity")
    Claims: Mapped[list[ClientClaimEntity]] = _children("ClientClaimEntity")
    IdentityProviderRestrictions: Mapped[list[ClientIdPRestrictionEntity]] = _children("ClientIdPRestrictionEntity")
    AllowedCorsOrigins: Mapped[list[ClientCorsOriginEntity]] = _children("ClientCorsOriginEntity")
    Properties: Mapped[list[ClientPropertyEntity]] = _children("ClientPropertyEntity")


class ClientClaimEntity(Base):
    __tablename__ = "ClientClaims"
    __table_args__ = (ix("ClientClaims", "ClientId", "Type", "Value", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    Type: Mapped[str] = mapped_column(nvarchar(250))
    Value: Mapped[str] = mapped_column(nvarchar(250))
    ClientId: Mapped[int] = _parent("Clients")


class ClientCorsOriginEntity(Base):
    __tablename__ = "ClientCorsOrigins"
    __table_args__ = (ix("ClientCorsOrigins", "ClientId", "Origin", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    Origin: Mapped[str] = mapped_column(nvarchar(150))
    ClientId: Mapped[int] = _parent("Clients")


class ClientGrantTypeEntity(Base):
    __tablename__ = "ClientGrantTypes"
    __table_args__ = (ix("ClientGrantTypes", "ClientId", "GrantType", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    GrantType: Mapped[str] = mapped_column(nvarchar(250))
    ClientId: Mapped[int] = _parent("Clients")


class ClientIdPRestrictionEntity(Base):
    __tablename__ = "ClientIdPRestrictions"
    __table_args__ = (ix("ClientIdPRestrictions", "ClientId", "Provider", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    Provider: Mapped[str] = mapped_column(nvarchar(200))
    ClientId: Mapped[int] = _parent("Clients")


class ClientPostLogoutRedirectUriEntity(Base):
    __tablename__ = "ClientPostLogoutRedirectUris"
    __table_args__ = (
        ix("ClientPostLogoutRedirectUris", "ClientId", "PostLogoutRedirectUri", unique=True),
        _SQLITE,
    )
    Id: Mapped[int] = _id()
    PostLogoutRedirectUri: Mapped[str] = mapped_column(nvarchar(400))
    ClientId: Mapped[int] = _parent("Clients")


class ClientPropertyEntity(Base):
    __tablename__ = "ClientProperties"
    __table_args__ = (ix("ClientProperties", "ClientId", "Key", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    ClientId: Mapped[int] = _parent("Clients")
    Key: Mapped[str] = mapped_column(nvarchar(250))
    Value: Mapped[str] = mapped_column(nvarchar(2000))


class ClientRedirectUriEntity(Base):
    __tablename__ = "ClientRedirectUris"
    __table_args__ = (ix("ClientRedirectUris", "ClientId", "RedirectUri", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    RedirectUri: Mapped[str] = mapped_column(nvarchar(400))
    ClientId: Mapped[int] = _parent("Clients")


class ClientScopeEntity(Base):
    __tablename__ = "ClientScopes"
    __table_args__ = (ix("ClientScopes", "ClientId", "Scope", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    Scope: Mapped[str] = mapped_column(nvarchar(200))
    ClientId: Mapped[int] = _parent("Clients")


class ClientSecretEntity(Base):
    __tablename__ = "ClientSecrets"
    __table_args__ = (ix("ClientSecrets", "ClientId"), _SQLITE)
    Id: Mapped[int] = _id()
    ClientId: Mapped[int] = _parent("Clients")
    Description: Mapped[str | None] = mapped_column(nvarchar(2000))
    Value: Mapped[str] = mapped_column(nvarchar(4000))
    Expiration: Mapped[datetime | None] = mapped_column(UtcDateTime)
    Type: Mapped[str] = mapped_column(nvarchar(250))
    Created: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiResourceEntity(Base):
    __tablename__ = "ApiResources"
    __table_args__ = (ix("ApiResources", "Name", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    Enabled: Mapped[bool] = mapped_column(Bool)
    Name: Mapped[str] = mapped_column(nvarchar(200))
    DisplayName: Mapped[str | None] = mapped_column(nvarchar(200))
    Description: Mapped[str | None] = mapped_column(nvarchar(1000))
    AllowedAccessTokenSigningAlgorithms: Mapped[str | None] = mapped_column(nvarchar(100))
    ShowInDiscoveryDocument: Mapped[bool] = mapped_column(Bool)
    RequireResourceIndicator: Mapped[bool] = mapped_column(Bool)
    Created: Mapped[datetime] = mapped_column(UtcDateTime)
    Updated: Mapped[datetime | None] = mapped_column(UtcDateTime)
    LastAccessed: Mapped[datetime | None] = mapped_column(UtcDateTime)
    NonEditable: Mapped[bool] = mapped_column(Bool)

    Secrets: Mapped[list[ApiResourceSecretEntity]] = _children("ApiResourceSecretEntity")
    Scopes: Mapped[list[ApiResourceScopeEntity]] = _children("ApiResourceScopeEntity")
    UserClaims: Mapped[list[ApiResourceClaimEntity]] = _children("ApiResourceClaimEntity")
    Properties: Mapped[list[ApiResourcePropertyEntity]] = _children("ApiResourcePropertyEntity")


class ApiResourceClaimEntity(Base):
    __tablename__ = "ApiResourceClaims"
    __table_args__ = (ix("ApiResourceClaims", "ApiResourceId", "Type", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    ApiResourceId: Mapped[int] = _parent("ApiResources")
    Type: Mapped[str] = mapped_column(nvarchar(200))


class ApiResourcePropertyEntity(Base):
    __tablename__ = "ApiResourceProperties"
    __table_args__ = (ix("ApiResourceProperties", "ApiResourceId", "Key", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    ApiResourceId: Mapped[int] = _parent("ApiResources")
    Key: Mapped[str] = mapped_column(nvarchar(250))
    Value: Mapped[str] = mapped_column(nvarchar(2000))


class ApiResourceScopeEntity(Base):
    __tablename__ = "ApiResourceScopes"
    __table_args__ = (ix("ApiResourceScopes", "ApiResourceId", "Scope", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    Scope: Mapped[str] = mapped_column(nvarchar(200))
    ApiResourceId: Mapped[int] = _parent("ApiResources")


class ApiResourceSecretEntity(Base):
    __tablename__ = "ApiResourceSecrets"
    __table_args__ = (ix("ApiResourceSecrets", "ApiResourceId"), _SQLITE)
    Id: Mapped[int] = _id()
    ApiResourceId: Mapped[int] = _parent("ApiResources")
    Description: Mapped[str | None] = mapped_column(nvarchar(1000))
    Value: Mapped[str] = mapped_column(nvarchar(4000))
    Expiration: Mapped[datetime | None] = mapped_column(UtcDateTime)
    Type: Mapped[str] = mapped_column(nvarchar(250))
    Created: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiScopeEntity(Base):
    __tablename__ = "ApiScopes"
    __table_args__ = (ix("ApiScopes", "Name", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    Enabled: Mapped[bool] = mapped_column(Bool)
    Name: Mapped[str] = mapped_column(nvarchar(200))
    DisplayName: Mapped[str | None] = mapped_column(nvarchar(200))
    Description: Mapped[str | None] = mapped_column(nvarchar(1000))
    Required: Mapped[bool] = mapped_column(Bool)
    Emphasize: Mapped[bool] = mapped_column(Bool)
    ShowInDiscoveryDocument: Mapped[bool] = mapped_column(Bool)
    Created: Mapped[datetime] = mapped_column(UtcDateTime)
    Updated: Mapped[datetime | None] = mapped_column(UtcDateTime)
    LastAccessed: Mapped[datetime | None] = mapped_column(UtcDateTime)
    NonEditable: Mapped[bool] = mapped_column(Bool)

    UserClaims: Mapped[list[ApiScopeClaimEntity]] = _children("ApiScopeClaimEntity")
    Properties: Mapped[list[ApiScopePropertyEntity]] = _children("ApiScopePropertyEntity")


class ApiScopeClaimEntity(Base):
    __tablename__ = "ApiScopeClaims"
    __table_args__ = (ix("ApiScopeClaims", "ScopeId", "Type", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    ScopeId: Mapped[int] = _parent("ApiScopes")
    Type: Mapped[str] = mapped_column(nvarchar(200))


class ApiScopePropertyEntity(Base):
    __tablename__ = "ApiScopeProperties"
    __table_args__ = (ix("ApiScopeProperties", "ScopeId", "Key", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    ScopeId: Mapped[int] = _parent("ApiScopes")
    Key: Mapped[str] = mapped_column(nvarchar(250))
    Value: Mapped[str] = mapped_column(nvarchar(2000))


class IdentityResourceEntity(Base):
    __tablename__ = "IdentityResources"
    __table_args__ = (ix("IdentityResources", "Name", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    Enabled: Mapped[bool] = mapped_column(Bool)
    Name: Mapped[str] = mapped_column(nvarchar(200))
    DisplayName: Mapped[str | None] = mapped_column(nvarchar(200))
    Description: Mapped[str | None] = mapped_column(nvarchar(1000))
    Required: Mapped[bool] = mapped_column(Bool)
    Emphasize: Mapped[bool] = mapped_column(Bool)
    ShowInDiscoveryDocument: Mapped[bool] = mapped_column(Bool)
    Created: Mapped[datetime] = mapped_column(UtcDateTime)
    Updated: Mapped[datetime | None] = mapped_column(UtcDateTime)
    NonEditable: Mapped[bool] = mapped_column(Bool)

    UserClaims: Mapped[list[IdentityResourceClaimEntity]] = _children("IdentityResourceClaimEntity")
    Properties: Mapped[list[IdentityResourcePropertyEntity]] = _children("IdentityResourcePropertyEntity")


class IdentityResourceClaimEntity(Base):
    __tablename__ = "IdentityResourceClaims"
    __table_args__ = (ix("IdentityResourceClaims", "IdentityResourceId", "Type", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    IdentityResourceId: Mapped[int] = _parent("IdentityResources")
    Type: Mapped[str] = mapped_column(nvarchar(200))


class IdentityResourcePropertyEntity(Base):
    __tablename__ = "IdentityResourceProperties"
    __table_args__ = (ix("IdentityResourceProperties", "IdentityResourceId", "Key", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    IdentityResourceId: Mapped[int] = _parent("IdentityResources")
    Key: Mapped[str] = mapped_column(nvarchar(250))
    Value: Mapped[str] = mapped_column(nvarchar(2000))


class IdentityProviderEntity(Base):
    """Dynamic identity providers (Duende ``IdentityProvider``); kept so that the schema is complete."""

    __tablename__ = "IdentityProviders"
    __table_args__ = (ix("IdentityProviders", "Scheme", unique=True), _SQLITE)
    Id: Mapped[int] = _id()
    Scheme: Mapped[str] = mapped_column(nvarchar(200))
    DisplayName: Mapped[str | None] = mapped_column(nvarchar(200))
    Enabled: Mapped[bool] = mapped_column(Bool)
    Type: Mapped[str] = mapped_column(nvarchar(20))
    Properties: Mapped[str | None] = mapped_column(nvarchar())
    Created: Mapped[datetime] = mapped_column(UtcDateTime)
    Updated: Mapped[datetime | None] = mapped_column(UtcDateTime)
    LastAccessed: Mapped[datetime | None] = mapped_column(UtcDateTime)
    NonEditable: Mapped[bool] = mapped_column(Bool)
