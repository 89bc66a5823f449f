"""Contexts passed to the profile service (Duende ``ProfileDataRequestContext``, ``IsActiveContext``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from identityserver.models.claims import Claim, Principal
from identityserver.models.client import Client
from identityserver.models.resources import Resources


class ProfileCallers:
    CLAIMS_PROVIDER_ACCESS_TOKEN = "ClaimsProviderAccessToken"
    CLAIMS_PROVIDER_IDENTITY_TOKEN = "ClaimsProviderIdentityToken"
    USER_INFO_ENDPOINT = "UserInfoEndpoint"
    AUTHORIZE_ENDPOINT = "AuthorizeEndpoint"
    TOKEN_ENDPOINT = "TokenEndpoint"
    BACKCHANNEL_AUTHENTICATION = "BackchannelAuthentication"


@dataclass(slots=True)
class ProfileDataRequestContext:
    subject: Principal
    client: Client
    caller: str
    requested_claim_types: list[str]
    requested_resources: Resources = field(default_factory=Resources)
    issued_claims: list[Claim] = field(default_factory=list)

    def add_requested_claims(self, claims: list[Claim]) -> None:
        """Add the claims whose type was requested (Duende ``AddRequestedClaims``)."""
        wanted = set(self.requested_claim_types)
        self.issued_claims.extend(c for c in claims if c.type in wanted)


@dataclass(slots=True)
class IsActiveContext:
    subject: Principal
    client: Client
    caller: str
    is_active: bool = True
