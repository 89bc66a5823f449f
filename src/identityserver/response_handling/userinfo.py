"""Userinfo responses (Duende ``UserInfoResponseGenerator``; OIDC Core §5.3.2): ``sub`` plus the claims of the
identity resources the token's scopes grant, from the profile service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from identityserver.models.claims import Principal, claims_to_json
from identityserver.models.client import Client
from identityserver.models.contexts import ProfileCallers, ProfileDataRequestContext
from identityserver.services.claims import FILTERED_CLAIMS
from identityserver.services.protocols import ProfileService
from identityserver.stores.protocols import ResourceStore


class UserInfoResponseGenerator:
    """Builds the userinfo response (Duende ``UserInfoResponseGenerator``; OIDC Core §5.3.2) from the profile service;
    override to change the claims returned."""

    def __init__(self, resources: ResourceStore, profile: ProfileService) -> None:
        self.resources = resources
        self.profile = profile

    async def process(
        self, subject: Principal, client: Client, scopes: list[str], requested_claim_types: Sequence[str] = ()
    ) -> dict[str, Any]:
        """``sub`` and the claims of the identity scopes the token carries, plus ``requested_claim_types`` (the
        ``claims`` request parameter's userinfo member, OIDC Core §5.5) that an identity resource the client may
        request carries, as the profile service issues them."""
        identity = [r for r in await self.resources.find_identity_resources_by_scope_name(scopes) if r.enabled]
        wanted = [c for r in identity for c in r.user_claims]
        if requested_claim_types:
            allowed = await self.resources.find_identity_resources_by_scope_name(list(client.allowed_scopes))
            releasable = {c for r in allowed if r.enabled for c in r.user_claims}
            wanted += [c for c in requested_claim_types if c in releasable]
        wanted = list(dict.fromkeys(wanted))
        context = ProfileDataRequestContext(subject, client, ProfileCallers.USER_INFO_ENDPOINT, wanted)
        await self.profile.get_profile_data(context)
        claims = claims_to_json(c for c in context.issued_claims if c.type not in FILTERED_CLAIMS)
        return {"sub": subject.subject_id, **claims}
