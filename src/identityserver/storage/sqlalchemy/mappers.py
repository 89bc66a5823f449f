"""Entity <-> model conversion without logic (Duende ``EntityFramework.Storage/Mappers`` AutoMapper profiles).

Enums are stored as Duende's integers, signing algorithms comma-joined, client claims without a value type,
and a client's ``token_endpoint_auth_method`` (not an IdentityServer column) as a ``ClientProperties`` row."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from identityserver.models.claims import Claim
from identityserver.models.client import (
    AccessTokenType,
    Client,
    ClientClaim,
    DPoPTokenExpirationValidationMode,
    Secret,
    TokenExpiration,
    TokenUsage,
)
from identityserver.models.grants import DeviceCode, PersistedGrant
from identityserver.models.keys import DataProtectionKey, SerializedKey
from identityserver.models.resources import ApiResource, ApiScope, IdentityResource
from identityserver.models.sessions import ServerSideSession
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
    IdentityResourceClaimEntity,
    IdentityResourceEntity,
    IdentityResourcePropertyEntity,
)
from identityserver.stores.serialization import device_code_from_dict, device_code_to_dict
from identityserver.test_users import TestUser

TOKEN_ENDPOINT_AUTH_METHOD_PROPERTY = "identityserver:token_endpoint_auth_method"
"""The ``ClientProperties`` key that holds ``Client.token_endpoint_auth_method``."""
ASPNET_DATA_PROTECTION_PREFIX = "CfDJ8"
"""How every ASP.NET Core Data Protection payload starts (magic header 09 F0 C9 F0, base64url)."""


def _join(values: list[str]) -> str | None:
    return ",".join(values) if values else None


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


# -- clients ---------------------------------------------------------------------------------------------------


def client_to_entity(client: Client, now: datetime) -> ClientEntity:
    properties = dict(client.properties)
    if client.token_endpoint_auth_method:
        properties[TOKEN_ENDPOINT_AUTH_METHOD_PROPERTY] = client.token_endpoint_auth_method
    return ClientEntity(
        Enabled=client.enabled,
        ClientId=client.client_id,
        ProtocolType=client.protocol_type,
        RequireClientSecret=client.require_client_secret,
        ClientName=client.client_name,
        Description=client.description,
        ClientUri=client.client_uri,
        LogoUri=client.logo_uri,
        RequireConsent=client.require_consent,
        AllowRememberConsent=client.allow_remember_consent,
        AlwaysIncludeUserClaimsInIdToken=client.always_include_user_claims_in_id_token,
        RequirePkce=client.require_pkce,
        AllowPlainTextPkce=client.allow_plain_text_pkce,
        RequireRequestObject=client.require_request_object,
        AllowAccessTokensViaBrowser=client.allow_access_tokens_via_browser,
        RequireDPoP=client.require_dpop,
        DPoPValidationMode=int(client.dpop_validation_mode),
        DPoPClockSkew=timedelta(seconds=client.dpop_clock_skew),
        FrontChannelLogoutUri=client.front_channel_logout_uri,
        FrontChannelLogoutSessionRequired=client.front_channel_logout_session_required,
        BackChannelLogoutUri=client.back_channel_logout_uri,
        BackChannelLogoutSessionRequired=client.back_channel_logout_session_required,
        AllowOfflineAccess=client.allow_offline_access,
        IdentityTokenLifetime=client.identity_token_lifetime,
        AllowedIdentityTokenSigningAlgorithms=_join(client.allowed_identity_token_signing_algorithms),
        AccessTokenLifetime=client.access_token_lifetime,
        AuthorizationCodeLifetime=client.authorization_code_lifetime,
        ConsentLifetime=client.consent_lifetime,
        AbsoluteRefreshTokenLifetime=client.absolute_refresh_token_lifetime,
        SlidingRefreshTokenLifetime=client.sliding_refresh_token_lifetime,
        RefreshTokenUsage=int(client.refresh_token_usage),
        UpdateAccessTokenClaimsOnRefresh=client.update_access_token_claims_on_refresh,
        RefreshTokenExpiration=int(client.refresh_token_expiration),
        AccessTokenType=int(client.access_token_type),
        EnableLocalLogin=client.enable_local_login,
        IncludeJwtId=client.include_jwt_id,
        AlwaysSendClientClaims=client.always_send_client_claims,
        ClientClaimsPrefix=client.client_claims_prefix,
        PairWiseSubjectSalt=client.pair_wise_subject_salt,
        InitiateLoginUri=client.initiate_login_uri,
        UserSsoLifetime=client.user_sso_lifetime,
        UserCodeType=client.user_code_type,
        DeviceCodeLifetime=client.device_code_lifetime,
        CibaLifetime=client.ciba_lifetime,
        PollingInterval=client.polling_interval,
        CoordinateLifetimeWithUserSession=client.coordinate_lifetime_with_user_session,
        Created=now,
        NonEditable=False,
        AllowedGrantTypes=[ClientGrantTypeEntity(GrantType=g) for g in dict.fromkeys(client.allowed_grant_types)],
        RedirectUris=[ClientRedirectUriEntity(RedirectUri=u) for u in dict.fromkeys(client.redirect_uris)],
        PostLogoutRedirectUris=[
            ClientPostLogoutRedirectUriEntity(PostLogoutRedirectUri=u)
            for u in dict.fromkeys(client.post_logout_redirect_uris)
        ],
        AllowedScopes=[ClientScopeEntity(Scope=s) for s in dict.fromkeys(client.allowed_scopes)],
        ClientSecrets=[secret_to_entity(ClientSecretEntity, s, now) for s in client.client_secrets],
        Claims=[ClientClaimEntity(Type=t, Value=v) for t, v in dict.fromkeys((c.type, c.value) for c in client.claims)],
        IdentityProviderRestrictions=[
            ClientIdPRestrictionEntity(Provider=p) for p in dict.fromkeys(client.identity_provider_restrictions)
        ],
        AllowedCorsOrigins=[ClientCorsOriginEntity(Origin=o) for o in dict.fromkeys(client.allowed_cors_origins)],
        Properties=[ClientPropertyEntity(Key=k, Value=v) for k, v in properties.items()],
    )


def client_from_entity(entity: ClientEntity) -> Client:
    properties = {p.Key: p.Value for p in entity.Properties}
    auth_method = properties.pop(TOKEN_ENDPOINT_AUTH_METHOD_PROPERTY, None)
    return Client(
        client_id=entity.ClientId,
        enabled=entity.Enabled,
        protocol_type=entity.ProtocolType,
        client_secrets=[secret_from_entity(s) for s in entity.ClientSecrets],
        require_client_secret=entity.RequireClientSecret,
        client_name=entity.ClientName,
        description=entity.Description,
        client_uri=entity.ClientUri,
        logo_uri=entity.LogoUri,
        require_consent=entity.RequireConsent,
        allow_remember_consent=entity.AllowRememberConsent,
        allowed_grant_types=[g.GrantType for g in entity.AllowedGrantTypes],
        require_pkce=entity.RequirePkce,
        allow_plain_text_pkce=entity.AllowPlainTextPkce,
        require_request_object=entity.RequireRequestObject,
        allow_access_tokens_via_browser=entity.AllowAccessTokensViaBrowser,
        require_dpop=entity.RequireDPoP,
        dpop_validation_mode=DPoPTokenExpirationValidationMode(entity.DPoPValidationMode),
        dpop_clock_skew=int(entity.DPoPClockSkew.total_seconds()),
        redirect_uris=[u.RedirectUri for u in entity.RedirectUris],
        post_logout_redirect_uris=[u.PostLogoutRedirectUri for u in entity.PostLogoutRedirectUris],
        front_channel_logout_uri=entity.FrontChannelLogoutUri,
        front_channel_logout_session_required=entity.FrontChannelLogoutSessionRequired,
        back_channel_logout_uri=entity.BackChannelLogoutUri,
        back_channel_logout_session_required=entity.BackChannelLogoutSessionRequired,
        allow_offline_access=entity.AllowOfflineAccess,
        allowed_scopes=[s.Scope for s in entity.AllowedScopes],
        always_include_user_claims_in_id_token=entity.AlwaysIncludeUserClaimsInIdToken,
        identity_token_lifetime=entity.IdentityTokenLifetime,
        allowed_identity_token_signing_algorithms=_split(entity.AllowedIdentityTokenSigningAlgorithms),
        access_token_lifetime=entity.AccessTokenLifetime,
        authorization_code_lifetime=entity.AuthorizationCodeLifetime,
        absolute_refresh_token_lifetime=entity.AbsoluteRefreshTokenLifetime,
        sliding_refresh_token_lifetime=entity.SlidingRefreshTokenLifetime,
        consent_lifetime=entity.ConsentLifetime,
        refresh_token_usage=TokenUsage(entity.RefreshTokenUsage),
        update_access_token_claims_on_refresh=entity.UpdateAccessTokenClaimsOnRefresh,
        refresh_token_expiration=TokenExpiration(entity.RefreshTokenExpiration),
        access_token_type=AccessTokenType(entity.AccessTokenType),
        enable_local_login=entity.EnableLocalLogin,
        identity_provider_restrictions=[r.Provider for r in entity.IdentityProviderRestrictions],
        include_jwt_id=entity.IncludeJwtId,
        claims=[ClientClaim(c.Type, c.Value) for c in entity.Claims],
        always_send_client_claims=entity.AlwaysSendClientClaims,
        client_claims_prefix=entity.ClientClaimsPrefix,
        pair_wise_subject_salt=entity.PairWiseSubjectSalt,
        user_sso_lifetime=entity.UserSsoLifetime,
        user_code_type=entity.UserCodeType,
        device_code_lifetime=entity.DeviceCodeLifetime,
        ciba_lifetime=entity.CibaLifetime,
        polling_interval=entity.PollingInterval,
        coordinate_lifetime_with_user_session=entity.CoordinateLifetimeWithUserSession,
        allowed_cors_origins=[o.Origin for o in entity.AllowedCorsOrigins],
        initiate_login_uri=entity.InitiateLoginUri,
        properties=properties,
        token_endpoint_auth_method=auth_method,
    )


_S = TypeVar("_S", ClientSecretEntity, ApiResourceSecretEntity)


def secret_to_entity(cls: type[_S], secret: Secret, now: datetime) -> _S:
    return cls(
        Value=secret.value, Type=secret.type, Description=secret.description, Expiration=secret.expiration, Created=now
    )


def secret_from_entity(entity: ClientSecretEntity | ApiResourceSecretEntity) -> Secret:
    return Secret(entity.Value, entity.Type, entity.Description, entity.Expiration)


# -- resources -------------------------------------------------------------------------------------------------


def identity_resource_to_entity(resource: IdentityResource, now: datetime) -> IdentityResourceEntity:
    return IdentityResourceEntity(
        Enabled=resource.enabled,
        Name=resource.name,
        DisplayName=resource.display_name,
        Description=resource.description,
        Required=resource.required,
        Emphasize=resource.emphasize,
        ShowInDiscoveryDocument=resource.show_in_discovery_document,
        Created=now,
        NonEditable=False,
        UserClaims=[IdentityResourceClaimEntity(Type=c) for c in dict.fromkeys(resource.user_claims)],
        Properties=[IdentityResourcePropertyEntity(Key=k, Value=v) for k, v in resource.properties.items()],
    )


def identity_resource_from_entity(entity: IdentityResourceEntity) -> IdentityResource:
    return IdentityResource(
        name=entity.Name,
        user_claims=[c.Type for c in entity.UserClaims],
        enabled=entity.Enabled,
        display_name=entity.DisplayName,
        description=entity.Description,
        show_in_discovery_document=entity.ShowInDiscoveryDocument,
        required=entity.Required,
        emphasize=entity.Emphasize,
        properties={p.Key: p.Value for p in entity.Properties},
    )


def api_scope_to_entity(scope: ApiScope, now: datetime) -> ApiScopeEntity:
    return ApiScopeEntity(
        Enabled=scope.enabled,
        Name=scope.name,
        DisplayName=scope.display_name,
        Description=scope.description,
        Required=scope.required,
        Emphasize=scope.emphasize,
        ShowInDiscoveryDocument=scope.show_in_discovery_document,
        Created=now,
        NonEditable=False,
        UserClaims=[ApiScopeClaimEntity(Type=c) for c in dict.fromkeys(scope.user_claims)],
        Properties=[ApiScopePropertyEntity(Key=k, Value=v) for k, v in scope.properties.items()],
    )


def api_scope_from_entity(entity: ApiScopeEntity) -> ApiScope:
    return ApiScope(
        name=entity.Name,
        user_claims=[c.Type for c in entity.UserClaims],
        enabled=entity.Enabled,
        display_name=entity.DisplayName,
        description=entity.Description,
        show_in_discovery_document=entity.ShowInDiscoveryDocument,
        required=entity.Required,
        emphasize=entity.Emphasize,
        properties={p.Key: p.Value for p in entity.Properties},
    )


def api_resource_to_entity(resource: ApiResource, now: datetime) -> ApiResourceEntity:
    return ApiResourceEntity(
        Enabled=resource.enabled,
        Name=resource.name,
        DisplayName=resource.display_name,
        Description=resource.description,
        AllowedAccessTokenSigningAlgorithms=_join(resource.allowed_access_token_signing_algorithms),
        ShowInDiscoveryDocument=resource.show_in_discovery_document,
        RequireResourceIndicator=resource.require_resource_indicator,
        Created=now,
        NonEditable=False,
        Secrets=[secret_to_entity(ApiResourceSecretEntity, s, now) for s in resource.api_secrets],
        Scopes=[ApiResourceScopeEntity(Scope=s) for s in dict.fromkeys(resource.scopes)],
        UserClaims=[ApiResourceClaimEntity(Type=c) for c in dict.fromkeys(resource.user_claims)],
        Properties=[ApiResourcePropertyEntity(Key=k, Value=v) for k, v in resource.properties.items()],
    )


def api_resource_from_entity(entity: ApiResourceEntity) -> ApiResource:
    return ApiResource(
        name=entity.Name,
        scopes=[s.Scope for s in entity.Scopes],
        api_secrets=[secret_from_entity(s) for s in entity.Secrets],
        user_claims=[c.Type for c in entity.UserClaims],
        enabled=entity.Enabled,
        display_name=entity.DisplayName,
        description=entity.Description,
        show_in_discovery_document=entity.ShowInDiscoveryDocument,
        require_resource_indicator=entity.RequireResourceIndicator,
        allowed_access_token_signing_algorithms=_split(entity.AllowedAccessTokenSigningAlgorithms),
        properties={p.Key: p.Value for p in entity.Properties},
    )


# -- operational rows ------------------------------------------------------------------------------------------


def persisted_grant_to_row(grant: PersistedGrant) -> dict[str, Any]:
    return {
        "Key": grant.key,
        "Type": grant.type,
        "SubjectId": grant.subject_id,
        "SessionId": grant.session_id,
        "ClientId": grant.client_id,
        "Description": grant.description,
        "CreationTime": grant.creation_time,
        "Expiration": grant.expiration,
        "ConsumedTime": grant.consumed_time,
        "Data": grant.data,
    }


def persisted_grant_from_row(row: Mapping[Any, Any]) -> PersistedGrant:
    return PersistedGrant(
        key=row["Key"],
        type=row["Type"],
        client_id=row["ClientId"],
        creation_time=row["CreationTime"],
        data=row["Data"],
        subject_id=row["SubjectId"],
        session_id=row["SessionId"],
        description=row["Description"],
        expiration=row["Expiration"],
        consumed_time=row["ConsumedTime"],
    )


def is_aspnet_protected(data: str) -> bool:
    """True for a payload that IdentityServer (.NET) protected with ASP.NET Data Protection, bare or inside
    its ``{"PersistentGrantDataContainerVersion": 1, "DataProtected": true, "Payload": ...}`` container."""
    if data.startswith(ASPNET_DATA_PROTECTION_PREFIX):
        return True
    if not data.startswith("{") or '"DataProtected"' not in data:
        return False
    try:
        container = json.loads(data)
    except ValueError:
        return False
    payload = container.get("Payload") if isinstance(container, dict) else None
    return isinstance(payload, str) and payload.startswith(ASPNET_DATA_PROTECTION_PREFIX)


def device_code_to_row(device_code: str, user_code: str, data: DeviceCode) -> dict[str, Any]:
    created = datetime.fromtimestamp(data.creation_time, UTC)
    payload = json.dumps(device_code_to_dict(data), separators=(",", ":"))
    return {
        "UserCode": user_code,
        "DeviceCode": device_code,
        "SubjectId": data.subject.subject_id if data.subject is not None else None,
        "SessionId": data.session_id,
        "ClientId": data.client_id,
        "Description": data.description,
        "CreationTime": created,
        "Expiration": created + timedelta(seconds=data.lifetime),
        "Data": json.dumps(
            {"PersistentGrantDataContainerVersion": 1, "DataProtected": False, "Payload": payload},
            separators=(",", ":"),
        ),
    }


def device_code_from_row(row: Mapping[Any, Any]) -> DeviceCode:
    """Raise ``ValueError`` when the payload is not this server's (e.g. protected by IdentityServer .NET)."""
    container = json.loads(row["Data"])
    if not isinstance(container, dict):
        raise ValueError("device code payload is not a JSON object")
    if "PersistentGrantDataContainerVersion" in container:
        if container.get("DataProtected"):
            raise ValueError("device code payload is protected with ASP.NET Data Protection")
        container = json.loads(str(container["Payload"]))
    try:
        return device_code_from_dict(container)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"device code payload cannot be read: {type(exc).__name__}") from exc


def signing_key_to_row(key: SerializedKey) -> dict[str, Any]:
    return {
        "Id": key.id,
        "Version": key.version,
        "Created": key.created,
        "Use": key.use,
        "Algorithm": key.algorithm,
        "IsX509Certificate": key.is_x509_certificate,
        "DataProtected": key.data_protected,
        "Data": key.data,
    }


def signing_key_from_row(row: Mapping[Any, Any]) -> SerializedKey:
    return SerializedKey(
        id=row["Id"],
        version=row["Version"],
        created=row["Created"],
        algorithm=row["Algorithm"],
        is_x509_certificate=row["IsX509Certificate"],
        data=row["Data"],
        data_protected=row["DataProtected"],
        use=row["Use"] or "signing",
    )


def session_to_row(session: ServerSideSession) -> dict[str, Any]:
    return {
        "Key": session.key,
        "Scheme": session.scheme,
        "SubjectId": session.subject_id,
        "SessionId": session.session_id,
        "DisplayName": session.display_name,
        "Created": session.created,
        "Renewed": session.renewed,
        "Expires": session.expires,
        "Data": session.ticket,
    }


def session_from_row(row: Mapping[Any, Any]) -> ServerSideSession:
    return ServerSideSession(
        key=row["Key"],
        scheme=row["Scheme"],
        subject_id=row["SubjectId"],
        created=row["Created"],
        renewed=row["Renewed"],
        ticket=row["Data"],
        session_id=row["SessionId"],
        display_name=row["DisplayName"],
        expires=row["Expires"],
    )


def data_protection_key_to_row(key: DataProtectionKey) -> dict[str, Any]:
    return {
        "Id": key.id,
        "Created": key.created,
        "Activation": key.activation,
        "Expiration": key.expiration,
        "Material": base64.b64encode(key.material).decode("ascii"),
    }


def data_protection_key_from_row(row: Mapping[Any, Any]) -> DataProtectionKey:
    return DataProtectionKey(
        id=row["Id"],
        created=row["Created"],
        activation=row["Activation"],
        expiration=row["Expiration"],
        material=base64.b64decode(row["Material"], validate=True),
    )


def user_to_row(user: TestUser) -> dict[str, Any]:
    return {
        "SubjectId": user.subject_id,
        "Username": user.username,
        "NormalizedUsername": user.username.lower(),
        "PasswordHash": user.password_hash,
        "Claims": json.dumps([c.to_dict() for c in user.claims], ensure_ascii=False),
        "IsActive": user.is_active,
        "ProviderName": user.provider_name,
        "ProviderSubjectId": user.provider_subject_id,
    }


def user_from_row(row: Mapping[Any, Any]) -> TestUser:
    return TestUser(
        subject_id=row["SubjectId"],
        username=row["Username"],
        password_hash=row["PasswordHash"],
        claims=[Claim.from_dict(c) for c in json.loads(row["Claims"])],
        is_active=row["IsActive"],
        provider_name=row["ProviderName"],
        provider_subject_id=row["ProviderSubjectId"],
    )
