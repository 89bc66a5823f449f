"""The database schema: IdentityServer's EF ``ConfigurationDbContext`` and ``PersistedGrantDbContext`` tables
(Duende ``EntityFramework.Storage/Entities``) plus this server's own tables, on one ``MetaData``."""

from __future__ import annotations

from identityserver.storage.sqlalchemy.entities.base import Base, metadata
from identityserver.storage.sqlalchemy.entities.configuration import (
    ApiResourceClaimEntity,
    ApiResourceEntity,
    ApiResourcePropertyEntity,
    ApiResourceScopeEntity,
    ApiResourceSecretEntity,
    ApiScopeClaimEntity,
    ApiScopeEntity,
    ApiScopePropertyEntity,
    ClientClaimEntity,
    ClientCorsOriginEntity,
    ClientEntity,
    ClientGrantTypeEntity,
    ClientIdPRestrictionEntity,
    ClientPostLogoutRedirectUriEntity,
    ClientPropertyEntity,
    ClientRedirectUriEntity,
    ClientScopeEntity,
    ClientSecretEntity,
    IdentityProviderEntity,
    IdentityResourceClaimEntity,
    IdentityResourceEntity,
    IdentityResourcePropertyEntity,
)
from identityserver.storage.sqlalchemy.entities.operational import (
    data_protection_keys,
    device_codes,
    keys,
    persisted_grants,
    replay_cache,
    server_side_sessions,
    users,
)

CONFIGURATION_TABLES = (
    "Clients",
    "ClientClaims",
    "ClientCorsOrigins",
    "ClientGrantTypes",
    "ClientIdPRestrictions",
    "ClientPostLogoutRedirectUris",
    "ClientProperties",
    "ClientRedirectUris",
    "ClientScopes",
    "ClientSecrets",
    "ApiResources",
    "ApiResourceClaims",
    "ApiResourceProperties",
    "ApiResourceScopes",
    "ApiResourceSecrets",
    "ApiScopes",
    "ApiScopeClaims",
    "ApiScopeProperties",
    "IdentityResources",
    "IdentityResourceClaims",
    "IdentityResourceProperties",
    "IdentityProviders",
)
OPERATIONAL_TABLES = ("PersistedGrants", "DeviceCodes", "Keys", "ServerSideSessions")
IDENTITYSERVER_TABLES = CONFIGURATION_TABLES + OPERATIONAL_TABLES
"""The tables IdentityServer's own EF migrations create (6.2 and 6.3 have the same set)."""
OWN_TABLES = ("IdentityServerReplayCache", "IdentityServerDataProtectionKeys", "IdentityServerUsers")
"""Tables of this server that IdentityServer does not have (migration revision 3)."""

__all__ = [
    "CONFIGURATION_TABLES",
    "IDENTITYSERVER_TABLES",
    "OPERATIONAL_TABLES",
    "OWN_TABLES",
    "ApiResourceClaimEntity",
    "ApiResourceEntity",
    "ApiResourcePropertyEntity",
    "ApiResourceScopeEntity",
    "ApiResourceSecretEntity",
    "ApiScopeClaimEntity",
    "ApiScopeEntity",
    "ApiScopePropertyEntity",
    "Base",
    "ClientClaimEntity",
    "ClientCorsOriginEntity",
    "ClientEntity",
    "ClientGrantTypeEntity",
    "ClientIdPRestrictionEntity",
    "ClientPostLogoutRedirectUriEntity",
    "ClientPropertyEntity",
    "ClientRedirectUriEntity",
    "ClientScopeEntity",
    "ClientSecretEntity",
    "IdentityProviderEntity",
    "IdentityResourceClaimEntity",
    "IdentityResourceEntity",
    "IdentityResourcePropertyEntity",
    "data_protection_keys",
    "device_codes",
    "keys",
    "metadata",
    "persisted_grants",
    "replay_cache",
    "server_side_sessions",
    "users",
]
