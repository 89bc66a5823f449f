"""Entity rows <-> configuration models without logic (Duende ``EntityFramework.Storage/Mappers``:
``ClientMappers``, ``IdentityResourceMappers``, ``ScopeMappers``, ``ApiResourceMappers``).

Enums are stored as Duende's integers, signing algorithms comma-joined, client claims without a value type,
and a client's settings that are not IdentityServer columns (``server_setting`` fields) as ``ClientProperties`` rows
(``client_settings.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from identityserver.models.client import (
    AccessTokenType,
    Client,
    ClientClaim,
    DPoPTokenExpirationValidationMode,
    Secret,
    TokenExpiration,
    TokenUsage,
)
from identityserver.models.resources import ApiResource, ApiScope, IdentityResource
from identityserver.storage.sqlalchemy.aggregates import EntityRows, Row
from identityserver.storage.sqlalchemy.client_settings import settings_from_properties, settings_to_properties
from identityserver.storage.sqlalchemy.entities.configuration import (
    api_resource_claims,
    api_resource_properties,
    api_resource_scopes,
    api_resource_secrets,
    api_scope_claims,
    api_scope_properties,
    client_claims,
    client_cors_origins,
    client_grant_types,
    client_idp_restrictions,
    client_post_logout_redirect_uris,
    client_properties,
    client_redirect_uris,
    client_scopes,
    client_secrets,
    identity_resource_claims,
    identity_resource_properties,
)


def _join(values: list[str]) -> str | None:
    return ",".join(values) if values else None


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


# -- clients ---------------------------------------------------------------------------------------------------


def _values(column: str, values: Iterable[Any]) -> list[Row]:
    """One child row per distinct value (the unique indexes forbid duplicates), in order."""
    return [{column: v} for v in dict.fromkeys(values)]


def _properties(properties: Mapping[str, str]) -> list[Row]:
    return [{"Key": k, "Value": v} for k, v in properties.items()]


def client_to_rows(client: Client, now: datetime) -> EntityRows:
    properties = {**client.properties, **settings_to_properties(client)}
    row = {
        "Enabled": client.enabled,
        "ClientId": client.client_id,
        "ProtocolType": client.protocol_type,
        "RequireClientSecret": client.require_client_secret,
        "ClientName": client.client_name,
        "Description": client.description,
        "ClientUri": client.client_uri,
        "LogoUri": client.logo_uri,
        "RequireConsent": client.require_consent,
        "AllowRememberConsent": client.allow_remember_consent,
        "AlwaysIncludeUserClaimsInIdToken": client.always_include_user_claims_in_id_token,
        "RequirePkce": client.require_pkce,
        "AllowPlainTextPkce": client.allow_plain_text_pkce,
        "RequireRequestObject": client.require_request_object,
        "AllowAccessTokensViaBrowser": client.allow_access_tokens_via_browser,
        "RequireDPoP": client.require_dpop,
        "DPoPValidationMode": int(client.dpop_validation_mode),
        "DPoPClockSkew": timedelta(seconds=client.dpop_clock_skew),
        "FrontChannelLogoutUri": client.front_channel_logout_uri,
        "FrontChannelLogoutSessionRequired": client.front_channel_logout_session_required,
        "BackChannelLogoutUri": client.back_channel_logout_uri,
        "BackChannelLogoutSessionRequired": client.back_channel_logout_session_required,
        "AllowOfflineAccess": client.allow_offline_access,
        "IdentityTokenLifetime": client.identity_token_lifetime,
        "AllowedIdentityTokenSigningAlgorithms": _join(client.allowed_identity_token_signing_algorithms),
        "AccessTokenLifetime": client.access_token_lifetime,
        "AuthorizationCodeLifetime": client.authorization_code_lifetime,
        "ConsentLifetime": client.consent_lifetime,
        "AbsoluteRefreshTokenLifetime": client.absolute_refresh_token_lifetime,
        "SlidingRefreshTokenLifetime": client.sliding_refresh_token_lifetime,
        "RefreshTokenUsage": int(client.refresh_token_usage),
        "UpdateAccessTokenClaimsOnRefresh": client.update_access_token_claims_on_refresh,
        "RefreshTokenExpiration": int(client.refresh_token_expiration),
        "AccessTokenType": int(client.access_token_type),
        "EnableLocalLogin": client.enable_local_login,
        "IncludeJwtId": client.include_jwt_id,
        "AlwaysSendClientClaims": client.always_send_client_claims,
        "ClientClaimsPrefix": client.client_claims_prefix,
        "PairWiseSubjectSalt": client.pair_wise_subject_salt,
        "InitiateLoginUri": client.initiate_login_uri,
        "UserSsoLifetime": client.user_sso_lifetime,
        "UserCodeType": client.user_code_type,
        "DeviceCodeLifetime": client.device_code_lifetime,
        "CibaLifetime": client.ciba_lifetime,
        "PollingInterval": client.polling_interval,
        "CoordinateLifetimeWithUserSession": client.coordinate_lifetime_with_user_session,
        "Created": now,
        "NonEditable": False,
    }
    claims = dict.fromkeys((c.type, c.value) for c in client.claims)
    return EntityRows(
        row,
        {
            client_grant_types: _values("GrantType", client.allowed_grant_types),
            client_redirect_uris: _values("RedirectUri", client.redirect_uris),
            client_post_logout_redirect_uris: _values("PostLogoutRedirectUri", client.post_logout_redirect_uris),
            client_scopes: _values("Scope", client.allowed_scopes),
            client_secrets: [secret_to_row(s, now) for s in client.client_secrets],
            client_claims: [{"Type": t, "Value": v} for t, v in claims],
            client_idp_restrictions: _values("Provider", client.identity_provider_restrictions),
            client_cors_origins: _values("Origin", client.allowed_cors_origins),
            client_properties: _properties(properties),
        },
    )


def client_from_rows(entity: EntityRows) -> Client:
    row = entity.row
    settings, properties = settings_from_properties({p["Key"]: p["Value"] for p in entity.of(client_properties)})
    return Client(
        client_id=row["ClientId"],
        enabled=row["Enabled"],
        protocol_type=row["ProtocolType"],
        client_secrets=[secret_from_row(s) for s in entity.of(client_secrets)],
        require_client_secret=row["RequireClientSecret"],
        client_name=row["ClientName"],
        description=row["Description"],
        client_uri=row["ClientUri"],
        logo_uri=row["LogoUri"],
        require_consent=row["RequireConsent"],
        allow_remember_consent=row["AllowRememberConsent"],
        allowed_grant_types=[g["GrantType"] for g in entity.of(client_grant_types)],
        require_pkce=row["RequirePkce"],
        allow_plain_text_pkce=row["AllowPlainTextPkce"],
        require_request_object=row["RequireRequestObject"],
        allow_access_tokens_via_browser=row["AllowAccessTokensViaBrowser"],
        require_dpop=row["RequireDPoP"],
        dpop_validation_mode=DPoPTokenExpirationValidationMode(row["DPoPValidationMode"]),
        dpop_clock_skew=int(row["DPoPClockSkew"].total_seconds()),
        redirect_uris=[u["RedirectUri"] for u in entity.of(client_redirect_uris)],
        post_logout_redirect_uris=[u["PostLogoutRedirectUri"] for u in entity.of(client_post_logout_redirect_uris)],
        front_channel_logout_uri=row["FrontChannelLogoutUri"],
        front_channel_logout_session_required=row["FrontChannelLogoutSessionRequired"],
        back_channel_logout_uri=row["BackChannelLogoutUri"],
        back_channel_logout_session_required=row["BackChannelLogoutSessionRequired"],
        allow_offline_access=row["AllowOfflineAccess"],
        allowed_scopes=[s["Scope"] for s in entity.of(client_scopes)],
        always_include_user_claims_in_id_token=row["AlwaysIncludeUserClaimsInIdToken"],
        identity_token_lifetime=row["IdentityTokenLifetime"],
        allowed_identity_token_signing_algorithms=_split(row["AllowedIdentityTokenSigningAlgorithms"]),
        access_token_lifetime=row["AccessTokenLifetime"],
        authorization_code_lifetime=row["AuthorizationCodeLifetime"],
        absolute_refresh_token_lifetime=row["AbsoluteRefreshTokenLifetime"],
        sliding_refresh_token_lifetime=row["SlidingRefreshTokenLifetime"],
        consent_lifetime=row["ConsentLifetime"],
        refresh_token_usage=TokenUsage(row["RefreshTokenUsage"]),
        update_access_token_claims_on_refresh=row["UpdateAccessTokenClaimsOnRefresh"],
        refresh_token_expiration=TokenExpiration(row["RefreshTokenExpiration"]),
        access_token_type=AccessTokenType(row["AccessTokenType"]),
        enable_local_login=row["EnableLocalLogin"],
        identity_provider_restrictions=[r["Provider"] for r in entity.of(client_idp_restrictions)],
        include_jwt_id=row["IncludeJwtId"],
        claims=[ClientClaim(c["Type"], c["Value"]) for c in entity.of(client_claims)],
        always_send_client_claims=row["AlwaysSendClientClaims"],
        client_claims_prefix=row["ClientClaimsPrefix"],
        pair_wise_subject_salt=row["PairWiseSubjectSalt"],
        user_sso_lifetime=row["UserSsoLifetime"],
        user_code_type=row["UserCodeType"],
        device_code_lifetime=row["DeviceCodeLifetime"],
        ciba_lifetime=row["CibaLifetime"],
        polling_interval=row["PollingInterval"],
        coordinate_lifetime_with_user_session=row["CoordinateLifetimeWithUserSession"],
        allowed_cors_origins=[o["Origin"] for o in entity.of(client_cors_origins)],
        initiate_login_uri=row["InitiateLoginUri"],
        properties=properties,
        **settings,
    )


def secret_to_row(secret: Secret, now: datetime) -> Row:
    """A ``ClientSecrets`` or ``ApiResourceSecrets`` row (same columns but the parent's)."""
    return {
        "Value": secret.value,
        "Type": secret.type,
        "Description": secret.description,
        "Expiration": secret.expiration,
        "Created": now,
    }


def secret_from_row(row: Row) -> Secret:
    return Secret(row["Value"], row["Type"], row["Description"], row["Expiration"])


# -- resources -------------------------------------------------------------------------------------------------


def _scope_row(scope: IdentityResource | ApiScope, now: datetime) -> Row:
    """The ``IdentityResources`` / ``ApiScopes`` columns both have (``ApiScopes`` also has ``LastAccessed``)."""
    return {
        "Enabled": scope.enabled,
        "Name": scope.name,
        "DisplayName": scope.display_name,
        "Description": scope.description,
        "Required": scope.required,
        "Emphasize": scope.emphasize,
        "ShowInDiscoveryDocument": scope.show_in_discovery_document,
        "Created": now,
        "NonEditable": False,
    }


def identity_resource_to_rows(resource: IdentityResource, now: datetime) -> EntityRows:
    return EntityRows(
        _scope_row(resource, now),
        {
            identity_resource_claims: _values("Type", resource.user_claims),
            identity_resource_properties: _properties(resource.properties),
        },
    )


def identity_resource_from_rows(entity: EntityRows) -> IdentityResource:
    row = entity.row
    return IdentityResource(
        name=row["Name"],
        user_claims=[c["Type"] for c in entity.of(identity_resource_claims)],
        enabled=row["Enabled"],
        display_name=row["DisplayName"],
        description=row["Description"],
        show_in_discovery_document=row["ShowInDiscoveryDocument"],
        required=row["Required"],
        emphasize=row["Emphasize"],
        properties={p["Key"]: p["Value"] for p in entity.of(identity_resource_properties)},
    )


def api_scope_to_rows(scope: ApiScope, now: datetime) -> EntityRows:
    return EntityRows(
        _scope_row(scope, now),
        {api_scope_claims: _values("Type", scope.user_claims), api_scope_properties: _properties(scope.properties)},
    )


def api_scope_from_rows(entity: EntityRows) -> ApiScope:
    row = entity.row
    return ApiScope(
        name=row["Name"],
        user_claims=[c["Type"] for c in entity.of(api_scope_claims)],
        enabled=row["Enabled"],
        display_name=row["DisplayName"],
        description=row["Description"],
        show_in_discovery_document=row["ShowInDiscoveryDocument"],
        required=row["Required"],
        emphasize=row["Emphasize"],
        properties={p["Key"]: p["Value"] for p in entity.of(api_scope_properties)},
    )


def api_resource_to_rows(resource: ApiResource, now: datetime) -> EntityRows:
    row = {
        "Enabled": resource.enabled,
        "Name": resource.name,
        "DisplayName": resource.display_name,
        "Description": resource.description,
        "AllowedAccessTokenSigningAlgorithms": _join(resource.allowed_access_token_signing_algorithms),
        "ShowInDiscoveryDocument": resource.show_in_discovery_document,
        "RequireResourceIndicator": resource.require_resource_indicator,
        "Created": now,
        "NonEditable": False,
    }
    return EntityRows(
        row,
        {
            api_resource_secrets: [secret_to_row(s, now) for s in resource.api_secrets],
            api_resource_scopes: _values("Scope", resource.scopes),
            api_resource_claims: _values("Type", resource.user_claims),
            api_resource_properties: _properties(resource.properties),
        },
    )


def api_resource_from_rows(entity: EntityRows) -> ApiResource:
    row = entity.row
    return ApiResource(
        name=row["Name"],
        scopes=[s["Scope"] for s in entity.of(api_resource_scopes)],
        api_secrets=[secret_from_row(s) for s in entity.of(api_resource_secrets)],
        user_claims=[c["Type"] for c in entity.of(api_resource_claims)],
        enabled=row["Enabled"],
        display_name=row["DisplayName"],
        description=row["Description"],
        show_in_discovery_document=row["ShowInDiscoveryDocument"],
        require_resource_indicator=row["RequireResourceIndicator"],
        allowed_access_token_signing_algorithms=_split(row["AllowedAccessTokenSigningAlgorithms"]),
        properties={p["Key"]: p["Value"] for p in entity.of(api_resource_properties)},
    )
