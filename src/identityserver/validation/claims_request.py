"""The ``claims`` request parameter at the authorize endpoint (OIDC Core §5.5): parsed, checked for shape, and
narrowed to the claims the client may receive; plus the checks it adds to the login decision (§5.5.1 ``sub``
with a value, §5.5.1.1 essential ``acr``). docs/claims-parameter.md."""

from __future__ import annotations

import json
from typing import Any

from identityserver._utils.json_depth import MAX_JSON_DEPTH, nests_too_deeply
from identityserver.constants import AuthorizeErrors
from identityserver.models.claims_request import ClaimsRequest, RequestedClaim
from identityserver.models.client import Client
from identityserver.stores.protocols import ResourceStore
from identityserver.validation.authorize_results import AuthorizeRequestValidationError, ValidatedAuthorizeRequest

#: Longest ``claims`` value accepted (characters); a request for every standard claim is well under 2000.
MAX_CLAIMS_PARAMETER_LENGTH = 4000
#: The members this server understands (OIDC Core §5.5: other members are ignored).
MEMBERS = ("userinfo", "id_token")
#: Claims that describe the authentication and are always in the ID token (OIDC Core §2); a request for them
#: is kept (its ``value`` matters to the login decision) whatever the client's scopes.
AUTHENTICATION_CLAIMS = frozenset({"sub", "acr", "auth_time", "amr"})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_claims_parameter(text: str) -> ClaimsRequest | str:
    """The claims request in ``text``, or the description of why it is malformed (OIDC Core §5.5: a JSON object
    whose ``userinfo`` and ``id_token`` members map claim names to ``null`` or ``{essential, value, values}``)."""
    if len(text) > MAX_CLAIMS_PARAMETER_LENGTH:
        return "claims is too long"
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return "claims is not valid JSON"
    if not isinstance(data, dict):
        return "claims must be a JSON object"
    if nests_too_deeply(text, data):
        return f"claims nests JSON more than {MAX_JSON_DEPTH} levels deep"
    request = ClaimsRequest()
    for member in MEMBERS:
        claims = data.get(member)
        if claims is None:
            continue
        if not isinstance(claims, dict):
            return f"claims member {member} must be a JSON object"
        parsed: dict[str, RequestedClaim] = {}
        for name, wanted in claims.items():
            claim = _parse_claim(name, wanted)
            if isinstance(claim, str):
                return f"claims member {member}: {claim}"
            parsed[name] = claim
        setattr(request, member, parsed)
    return request


def _parse_claim(name: str, wanted: Any) -> RequestedClaim | str:
    """OIDC Core §5.5.1: ``null`` (default manner) or an object; members other than these three are ignored."""
    if not name:
        return "a claim name is empty"
    if wanted is None:
        return RequestedClaim()
    if not isinstance(wanted, dict):
        return "each claim must be null or a JSON object"
    essential = wanted.get("essential", False)
    if not isinstance(essential, bool):
        return "essential must be true or false"
    values = wanted.get("values")
    if values is not None and not isinstance(values, list):
        return "values must be a JSON array"
    return RequestedClaim(essential, wanted.get("value"), tuple(values) if values is not None else None)


def parameter_text(value: str | int | bool | dict[str, Any]) -> str:
    """A request object's member as the parameter text it stands for: JSON objects (``claims``, OIDC Core §6.1:
    "the claims member ... is a JSON object") as compact JSON, booleans in JSON spelling."""
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value).lower() if isinstance(value, bool) else str(value)


def _fail(request: ValidatedAuthorizeRequest, description: str) -> AuthorizeRequestValidationError:
    return AuthorizeRequestValidationError(
        AuthorizeErrors.INVALID_REQUEST,
        description,
        request.raw,
        request,
        redirectable=request.redirect_uri is not None,
    )


class ClaimsParameterValidator:
    """The authorize step that sets ``requested_claims``: only the claims an identity resource the client may
    request carries (plus the authentication claims), so nothing the client's scopes do not allow is ever
    asked of the profile service."""

    def __init__(self, resources: ResourceStore) -> None:
        self.resources = resources

    async def validate_claims_parameter(
        self, request: ValidatedAuthorizeRequest
    ) -> AuthorizeRequestValidationError | None:
        """Parse ``claims``, refuse what OIDC Core §5.5 does not allow, narrow it (:meth:`releasable`) and pass
        an essential ``acr``'s values on to the login page as ``acr_values`` (§5.5.1.1)."""
        text = request.raw.get("claims")
        if text is None:
            return None
        parsed = parse_claims_parameter(text)
        if isinstance(parsed, str):
            return _fail(request, parsed)
        if not request.is_openid_request:
            return _fail(request, "the claims parameter needs the openid scope")
        types = request.response_types
        if parsed.userinfo and "token" not in types and "code" not in types:
            # OIDC Core §5.5: "When the userinfo member is used, the request MUST also use a response_type value
            # that results in an Access Token being issued"
            return _fail(request, "claims for userinfo need a response_type that issues an access token")
        allowed = await self.releasable(request.client)
        request.requested_claims = ClaimsRequest(
            {n: c for n, c in parsed.userinfo.items() if n in allowed},
            {n: c for n, c in parsed.id_token.items() if n in allowed or n in AUTHENTICATION_CLAIMS},
        )
        essential_acr = [v for c in parsed.find("acr") if c.essential for v in c.wanted_values()]
        request.acr_values += [str(v) for v in essential_acr if str(v) not in request.acr_values]
        return None

    async def releasable(self, client: Client) -> set[str]:
        """The user claims of the enabled identity resources among the client's ``allowed_scopes``."""
        identity = await self.resources.find_identity_resources_by_scope_name(list(client.allowed_scopes))
        return {claim for resource in identity if resource.enabled for claim in resource.user_claims}


def requested_subject_mismatch(request: ValidatedAuthorizeRequest, subject_id: str) -> bool:
    """OIDC Core §5.5.1: ``sub`` requested with a value is answered only for that user (else: sign in again)."""
    claims = request.requested_claims
    if claims is None:
        return False
    return any(v != subject_id for c in claims.find("sub") for v in c.wanted_values())


def unmet_essential_acr(request: ValidatedAuthorizeRequest, acr: str | None) -> bool:
    """OIDC Core §5.5.1.1: an essential ``acr`` with values the authentication (``acr``) does not match is a
    failed authentication."""
    claims = request.requested_claims
    if claims is None:
        return False
    for claim in claims.find("acr"):
        wanted = [str(v) for v in claim.wanted_values()]
        if claim.essential and wanted and acr not in wanted:
            return True
    return False


def individually_requested_claims(request: ValidatedAuthorizeRequest) -> list[str]:
    """The user claims the ``claims`` parameter adds to what the granted identity scopes carry (what the consent
    page lists; the authentication claims are always in the ID token and are not listed)."""
    claims = request.requested_claims
    if claims is None:
        return []
    covered = {c for r in request.validated_resources.resources.identity_resources for c in r.user_claims}
    names = [*claims.id_token, *claims.userinfo]
    return sorted({n for n in names if n not in covered and n not in AUTHENTICATION_CLAIMS})
