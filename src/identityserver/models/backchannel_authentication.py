"""Client-initiated backchannel authentication (OpenID Connect CIBA Core 1.0): the stored request and what the
user validator and the interaction service exchange (Duende ``BackChannelAuthenticationRequest``,
``BackchannelAuthenticationUserValidatorContext``, ``BackchannelUserLoginRequest``,
``CompleteBackchannelLoginRequest``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from identityserver.models.claims import Principal
from identityserver.models.client import Client


@dataclass(slots=True)
class BackChannelAuthenticationRequest:
    """A pending or decided CIBA request, stored as a persisted grant of type ``ciba`` keyed by the hash of its
    ``auth_req_id``. ``internal_id`` is that key (what the UI and the interaction service name it by); it is
    filled in when the request is read, never stored in the payload."""

    creation_time: int
    lifetime: int
    client_id: str
    subject: Principal
    requested_scopes: list[str]
    requested_resource_indicators: list[str] = field(default_factory=list)
    authentication_context_reference_classes: list[str] = field(default_factory=list)
    tenant: str | None = None
    idp: str | None = None
    binding_message: str | None = None
    client_notification_token: str | None = None
    """The client's bearer token for the ping callback (CIBA Core §7.1 ``client_notification_token``)."""
    ping_authentication_request_id: str | None = None
    """The ``auth_req_id`` itself, kept (in the protected payload) only for ping clients: the callback carries it
    (CIBA Core §10.2), and the row's key is only its hash."""
    is_complete: bool = False
    authorized_scopes: list[str] | None = None
    """Set when the user decided: the scopes consented to; empty or ``None`` with ``is_complete`` is a denial."""
    session_id: str | None = None
    description: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    internal_id: str = ""

    @property
    def expires_at(self) -> int:
        return self.creation_time + self.lifetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "CreationTime": self.creation_time,
            "Lifetime": self.lifetime,
            "ClientId": self.client_id,
            "Subject": self.subject.to_list(),
            "RequestedScopes": list(self.requested_scopes),
            "RequestedResourceIndicators": list(self.requested_resource_indicators),
            "AuthenticationContextReferenceClasses": list(self.authentication_context_reference_classes),
            "Tenant": self.tenant,
            "IdP": self.idp,
            "BindingMessage": self.binding_message,
            "ClientNotificationToken": self.client_notification_token,
            "PingAuthenticationRequestId": self.ping_authentication_request_id,
            "IsComplete": self.is_complete,
            "AuthorizedScopes": self.authorized_scopes,
            "SessionId": self.session_id,
            "Description": self.description,
            "Properties": dict(self.properties),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BackChannelAuthenticationRequest:
        authorized = data.get("AuthorizedScopes")
        return cls(
            creation_time=int(data["CreationTime"]),
            lifetime=int(data["Lifetime"]),
            client_id=str(data["ClientId"]),
            subject=Principal.from_list(list(data["Subject"])),
            requested_scopes=[str(s) for s in data.get("RequestedScopes") or []],
            requested_resource_indicators=[str(r) for r in data.get("RequestedResourceIndicators") or []],
            authentication_context_reference_classes=[
                str(a) for a in data.get("AuthenticationContextReferenceClasses") or []
            ],
            tenant=data.get("Tenant"),
            idp=data.get("IdP"),
            binding_message=data.get("BindingMessage"),
            client_notification_token=data.get("ClientNotificationToken"),
            ping_authentication_request_id=data.get("PingAuthenticationRequestId"),
            is_complete=bool(data.get("IsComplete", False)),
            authorized_scopes=None if authorized is None else [str(s) for s in authorized],
            session_id=data.get("SessionId"),
            description=data.get("Description"),
            properties={str(k): str(v) for k, v in (data.get("Properties") or {}).items()},
        )


@dataclass(slots=True)
class BackchannelAuthenticationUserValidatorContext:
    """What the user validator gets (Duende ``BackchannelAuthenticationUserValidatorContext``): exactly one of the
    three hints is set; ``id_token_hint_claims`` are the claims of an ``id_token_hint`` this server issued."""

    client: Client
    login_hint: str | None = None
    id_token_hint: str | None = None
    id_token_hint_claims: dict[str, Any] | None = None
    login_hint_token: str | None = None
    user_code: str | None = None
    binding_message: str | None = None


@dataclass(slots=True)
class BackchannelAuthenticationUserValidationResult:
    """The user the request is for, or a CIBA Core §13 error (``unknown_user_id``, ``expired_login_hint_token``,
    ``missing_user_code``, ``invalid_user_code``, ``invalid_binding_message``, ``access_denied``)."""

    subject: Principal | None = None
    error: str | None = None
    error_description: str | None = None


@dataclass(slots=True)
class BackchannelUserLoginRequest:
    """A pending request as the user is asked about it (Duende ``BackchannelUserLoginRequest``)."""

    internal_id: str
    client: Client
    subject: Principal
    requested_scopes: list[str]
    binding_message: str | None = None
    authentication_context_reference_classes: list[str] = field(default_factory=list)
    requested_resource_indicators: list[str] = field(default_factory=list)
    tenant: str | None = None
    idp: str | None = None
    expires_at: int = 0


@dataclass(slots=True)
class CompleteBackchannelLoginRequest:
    """The user's decision (Duende ``CompleteBackchannelLoginRequest``): ``scopes_consented`` empty is a denial.
    ``subject`` is the signed-in user (with ``auth_time``, ``amr``, ``sid``); it must be the request's user."""

    internal_id: str
    subject: Principal
    scopes_consented: list[str] = field(default_factory=list)
    session_id: str | None = None
    description: str | None = None
