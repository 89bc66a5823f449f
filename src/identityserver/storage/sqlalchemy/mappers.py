"""Row <-> model conversion without logic for the operational tables (Duende ``EntityFramework.Storage/Mappers``
``PersistedGrantMappers`` and friends); clients and resources are in :mod:`.configuration_mappers`."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from identityserver.models.claims import Claim
from identityserver.models.grants import DeviceCode, PersistedGrant
from identityserver.models.keys import DataProtectionKey, SerializedKey
from identityserver.models.sessions import ServerSideSession
from identityserver.models.users import TestUser
from identityserver.stores.serialization import device_code_from_dict, device_code_to_dict

ASPNET_DATA_PROTECTION_PREFIX = "CfDJ8"
"""How every ASP.NET Core Data Protection payload starts (magic header 09 F0 C9 F0, base64url)."""


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
    # our own containers (every read of a grant) are told apart without parsing them
    if not data.startswith("{") or ASPNET_DATA_PROTECTION_PREFIX not in data or '"DataProtected"' not in data:
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
