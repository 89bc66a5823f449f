"""Which claims go into access and identity tokens (Duende ``DefaultClaimsService``)."""

from __future__ import annotations

from collections.abc import Sequence

from identityserver.models.claims import Claim, Principal
from identityserver.models.client import Client
from identityserver.models.contexts import ProfileCallers, ProfileDataRequestContext
from identityserver.models.resources import ResourceValidationResult
from identityserver.services.protocols import ProfileService

#: Claims that describe the authentication itself; they are copied from the principal, never from the profile
#: (``act``: the delegation chain of a token exchange or an extension grant, RFC 8693 §4.1).
PROTOCOL_CLAIMS = frozenset({"sub", "auth_time", "idp", "amr", "sid", "acr", "act"})
#: Claims the engine sets itself; the profile service cannot override them.
FILTERED_CLAIMS = frozenset(
    {
        "iss",
        "aud",
        "exp",
        "iat",
        "nbf",
        "jti",
        "nonce",
        "at_hash",
        "c_hash",
        "s_hash",
        "client_id",
        "scope",
        "cnf",
        "azp",
        "events",
        "sub",
        "auth_time",
        "idp",
        "amr",
        "sid",
        "acr",
        "act",
        "userinfo_claims",
    }
)


def subject_claims(subject: Principal) -> list[Claim]:
    """``sub``, ``auth_time``, ``idp``, ``amr``, ``sid``, ``acr`` and ``act`` from the authenticated principal."""
    return [c for c in subject.claims if c.type in PROTOCOL_CLAIMS]


def client_claims(client: Client) -> list[Claim]:
    prefix = client.client_claims_prefix or ""
    return [Claim(prefix + c.type, c.value, c.value_type) for c in client.claims]


class DefaultClaimsService:
    """Assembles the claims of access and identity tokens (Duende ``DefaultClaimsService``): protocol claims of the
    subject, client claims, scopes, and what the profile service issues; override to add or filter claims."""

    def __init__(self, profile: ProfileService) -> None:
        self.profile = profile

    async def get_access_token_claims(
        self, subject: Principal | None, resources: ResourceValidationResult, client: Client
    ) -> list[Claim]:
        """``client_id``, ``scope``, the client's claims (without a user, or with ``always_send_client_claims``), and
        for a user its protocol claims plus the user claims the API resources and scopes ask for."""
        claims = [Claim("client_id", client.client_id)]
        if subject is None or client.always_send_client_claims:
            claims.extend(client_claims(client))
        claims.extend(Claim("scope", scope) for scope in resources.raw_scope_values)
        if subject is None:
            return claims
        claims.extend(subject_claims(subject))
        wanted = [t for r in resources.resources.api_resources for t in r.user_claims]
        wanted += [t for s in resources.resources.api_scopes for t in s.user_claims]
        claims.extend(
            await self._profile_claims(subject, client, ProfileCallers.CLAIMS_PROVIDER_ACCESS_TOKEN, wanted, resources)
        )
        return claims

    async def get_identity_token_claims(
        self,
        subject: Principal,
        resources: ResourceValidationResult,
        client: Client,
        include_all_identity_claims: bool,
        requested_claim_types: Sequence[str] = (),
    ) -> list[Claim]:
        """The user's protocol claims, plus the identity resources' user claims when ``include_all_identity_claims`` or
        the client's ``always_include_user_claims_in_id_token`` (OIDC Core §5.4), plus ``requested_claim_types``:
        the claims the ``claims`` request parameter asks for in the ID token (OIDC Core §5.5)."""
        claims = subject_claims(subject)
        wanted = [t for t in requested_claim_types if t not in FILTERED_CLAIMS]
        if include_all_identity_claims or client.always_include_user_claims_in_id_token:
            wanted += [t for r in resources.resources.identity_resources for t in r.user_claims]
        if wanted:
            claims.extend(
                await self._profile_claims(
                    subject, client, ProfileCallers.CLAIMS_PROVIDER_IDENTITY_TOKEN, wanted, resources
                )
            )
        return claims

    async def _profile_claims(
        self, subject: Principal, client: Client, caller: str, wanted: list[str], resources: ResourceValidationResult
    ) -> list[Claim]:
        """The profile service's claims of the ``wanted`` types, minus those the engine sets itself."""
        if not wanted:
            return []
        context = ProfileDataRequestContext(subject, client, caller, list(dict.fromkeys(wanted)), resources.resources)
        await self.profile.get_profile_data(context)
        return [c for c in context.issued_claims if c.type not in FILTERED_CLAIMS]
