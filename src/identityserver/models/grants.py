"""Operational models: persisted grants and the payloads stored in them (Duende ``PersistedGrant``, ``Token``,
``AuthorizationCode``, ``RefreshToken``, ``Consent``, ``DeviceCode``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

from identityserver.models.claims import Claim, Principal


class ProofType(IntEnum):
    """How a refresh token is bound to a key (6.3 ``ProofType``)."""

    NONE = 0
    CLIENT_CERTIFICATE = 1
    DPOP = 2


@dataclass(slots=True)
class PersistedGrant:
    """A row of the ``PersistedGrants`` table. ``key`` is a hashed handle, never the handle itself."""

    key: str
    type: str
    client_id: str
    creation_time: datetime
    data: str
    subject_id: str | None = None
    session_id: str | None = None
    description: str | None = None
    expiration: datetime | None = None
    consumed_time: datetime | None = None


@dataclass(slots=True)
class PersistedGrantFilter:
    """Selects grants by subject, session, client(s) and type(s); at least one criterion is required."""

    subject_id: str | None = None
    session_id: str | None = None
    client_id: str | None = None
    client_ids: list[str] | None = None
    type: str | None = None
    types: list[str] | None = None

    def is_empty(self) -> bool:
        return not (self.subject_id or self.session_id or self.client_id or self.client_ids or self.type or self.types)

    def matches(self, grant: PersistedGrant) -> bool:
        if self.subject_id and grant.subject_id != self.subject_id:
            return False
        if self.session_id and grant.session_id != self.session_id:
            return False
        if self.client_id and grant.client_id != self.client_id:
            return False
        if self.client_ids and grant.client_id not in self.client_ids:
            return False
        if self.type and grant.type != self.type:
            return False
        return not (self.types and grant.type not in self.types)


@dataclass(slots=True)
class Token:
    """An access (or identity) token before serialization (Duende ``Token``)."""

    type: str
    client_id: str
    issuer: str
    creation_time: int
    lifetime: int
    audiences: list[str] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    access_token_type: int = 0
    allowed_signing_algorithms: list[str] = field(default_factory=list)
    confirmation: str | None = None
    description: str | None = None
    include_jwt_id: bool = True
    version: int = 5

    @property
    def subject_id(self) -> str | None:
        for claim in self.claims:
            if claim.type == "sub":
                return claim.value
        return None

    @property
    def session_id(self) -> str | None:
        for claim in self.claims:
            if claim.type == "sid":
                return claim.value
        return None

    @property
    def scopes(self) -> list[str]:
        return [c.value for c in self.claims if c.type == "scope"]


@dataclass(slots=True)
class AuthorizationCode:
    """What an authorization code stands for (Duende ``AuthorizationCode``; ``dpop_key_thumbprint`` is 6.3)."""

    creation_time: int
    lifetime: int
    client_id: str
    subject: Principal
    is_open_id: bool
    requested_scopes: list[str]
    redirect_uri: str
    requested_resource_indicators: list[str] = field(default_factory=list)
    nonce: str | None = None
    state_hash: str | None = None
    was_consent_shown: bool = False
    session_id: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    dpop_key_thumbprint: str | None = None
    description: str | None = None
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class RefreshToken:
    """A refresh token's state (Duende ``RefreshToken`` v5, plus ``proof_type`` from 6.3).

    ``family_id`` identifies the original grant so that reuse of a consumed token can revoke every
    descendant (RFC 9700 §4.14.2).
    """

    creation_time: int
    lifetime: int
    client_id: str
    subject: Principal
    authorized_scopes: list[str]
    access_tokens: dict[str, Token] = field(default_factory=dict)
    session_id: str | None = None
    description: str | None = None
    authorized_resource_indicators: list[str] | None = None
    proof_type: ProofType | None = ProofType.NONE
    consumed_time: int | None = None
    family_id: str | None = None
    earlier_access_tokens: list[tuple[str, int]] = field(default_factory=list)
    """``(jti, exp)`` of the unexpired access tokens issued earlier in this family, so that revoking the family
    revokes them too (RFC 7009 §2.1)."""
    version: int = 5


@dataclass(slots=True)
class Consent:
    """A remembered consent (persisted grant type ``user_consent``)."""

    subject_id: str
    client_id: str
    scopes: list[str]
    creation_time: datetime
    expiration: datetime | None = None


@dataclass(slots=True)
class DeviceCode:
    """A device authorization (RFC 8628) as kept by the device flow store."""

    creation_time: int
    lifetime: int
    client_id: str
    requested_scopes: list[str]
    is_open_id: bool = False
    is_authorized: bool = False
    authorized_scopes: list[str] | None = None
    subject: Principal | None = None
    session_id: str | None = None
    description: str | None = None
    dpop_key_thumbprint: str | None = None
