"""The token exchange grant (RFC 8693): a client presents a token of a subject (and, to delegate, a token of an
actor) and gets a token for another audience or narrower scopes, within the policy of its ``token_exchange``
setting. IdentityServer leaves this to an extension-grant sample; here it is a built-in grant.

Errors follow RFC 8693 §2.2.2: a missing or invalid parameter, a subject or actor token that is invalid for any
reason or unacceptable by policy is ``invalid_request``; a target outside policy is ``invalid_target``; scopes
that do not narrow are ``invalid_scope`` (RFC 6749 §5.2)."""

from __future__ import annotations

from dataclasses import dataclass

from identityserver.constants import GrantType, StandardScopes, TokenErrors, TokenTypeIdentifiers
from identityserver.events import TokenExchangeFailureEvent, TokenExchangeSuccessEvent
from identityserver.models.claims import Claim, Principal
from identityserver.models.client import AccessTokenType
from identityserver.models.contexts import IsActiveContext, ProfileCallers
from identityserver.models.resources import Resources, ResourceValidationResult
from identityserver.models.token_exchange import TokenExchangePolicy, token_exchange_policy
from identityserver.services.protocols import EventService, ProfileService
from identityserver.validation.resources import ResourceValidationError, resource_indicator_is_valid
from identityserver.validation.results import TokenRequestValidationError, TokenRequestValidationResult, error
from identityserver.validation.subject_token import SubjectTokenError, SubjectTokenValidators, ValidatedSubjectToken
from identityserver.validation.token_request.common import parse_requested_scopes
from identityserver.validation.token_request.delegation import (
    act_depth,
    actor_claim,
    holder_problem,
    may_act_allows,
)
from identityserver.validation.token_request.validator import GrantValidationContext

#: Token types the exchange issues (RFC 8693 §2.1 ``requested_token_type``).
ISSUABLE_TOKEN_TYPES = (TokenTypeIdentifiers.ACCESS_TOKEN, TokenTypeIdentifiers.JWT)
#: Subject claims that describe the original authentication and carry over to the issued token.
CARRIED_CLAIMS = ("auth_time", "idp", "amr", "acr", "sid")
MAX_TOKEN_TYPE_LENGTH = 200


@dataclass(slots=True)
class _Exchange:
    """What validation established, for the event."""

    subject: ValidatedSubjectToken
    actor: ValidatedSubjectToken | None
    depth: int
    issued_token_type: str


class TokenExchangeGrantValidator:
    """``urn:ietf:params:oauth:grant-type:token-exchange`` (RFC 8693 §2.1): validates the subject and actor tokens,
    the client's policy (delegation, impersonation, ``act`` depth, targets, scopes, trusted issuers) and builds the
    subject of the issued token; raises a token exchange event for every request."""

    grant_type = GrantType.TOKEN_EXCHANGE

    def __init__(self, tokens: SubjectTokenValidators, profile: ProfileService, events: EventService) -> None:
        self.tokens = tokens
        self.profile = profile
        self.events = events

    async def validate(
        self, context: GrantValidationContext
    ) -> TokenRequestValidationResult | TokenRequestValidationError:
        """The validated request (subject with its ``act`` chain, resources, ``issued_token_type``), or the error."""
        outcome = await self.exchange(context)
        request = context.request
        if isinstance(outcome, TokenRequestValidationError):
            failure = TokenExchangeFailureEvent(
                message=outcome.error_description,
                client_id=request.client.client_id,
                subject_token_type=request.raw.get("subject_token_type"),
                error=outcome.error,
            )
            await self.events.raise_event(failure, context.http.remote_ip)
            return outcome
        success = TokenExchangeSuccessEvent(
            client_id=request.client.client_id,
            subject_id=outcome.subject.subject_id,
            subject_token_type=outcome.subject.token_type,
            subject_token_issuer=outcome.subject.issuer,
            actor_id=outcome.actor.subject_id if outcome.actor else None,
            delegation_depth=outcome.depth,
            audiences=tuple(r.name for r in request.validated_resources.resources.api_resources),
            scopes=" ".join(request.validated_resources.raw_scope_values) or None,
            requested_token_type=outcome.issued_token_type,
        )
        await self.events.raise_event(success, context.http.remote_ip)
        return TokenRequestValidationResult(request, custom_response={"issued_token_type": outcome.issued_token_type})

    async def exchange(self, context: GrantValidationContext) -> _Exchange | TokenRequestValidationError:
        """Validate the subject and actor tokens against the client's policy (RFC 8693 §2.1), or return the error."""
        request = context.request
        raw, client = request.raw, request.client
        policy = token_exchange_policy(client)
        subject_token, subject_token_type = raw.get("subject_token"), raw.get("subject_token_type")
        if not subject_token:
            return error(TokenErrors.INVALID_REQUEST, "subject_token is missing")
        if not subject_token_type or len(subject_token_type) > MAX_TOKEN_TYPE_LENGTH:
            return error(TokenErrors.INVALID_REQUEST, "subject_token_type is missing or invalid")
        actor_token, actor_token_type = raw.get("actor_token"), raw.get("actor_token_type")
        if bool(actor_token) != bool(actor_token_type) or len(actor_token_type or "") > MAX_TOKEN_TYPE_LENGTH:
            # RFC 8693 §2.1: actor_token_type is required with actor_token and must not be sent without it
            return error(TokenErrors.INVALID_REQUEST, "actor_token and actor_token_type must be sent together")
        issued_token_type = raw.get("requested_token_type") or TokenTypeIdentifiers.ACCESS_TOKEN
        if issued_token_type not in ISSUABLE_TOKEN_TYPES or (
            issued_token_type == TokenTypeIdentifiers.JWT and client.access_token_type != AccessTokenType.JWT
        ):
            return error(
                TokenErrors.INVALID_REQUEST, f"requested_token_type {issued_token_type[:200]!r} is not supported"
            )
        if actor_token and not policy.delegation:
            return error(TokenErrors.INVALID_REQUEST, "this client may not exchange tokens for delegation")
        if not actor_token and not policy.impersonation:
            return error(
                TokenErrors.INVALID_REQUEST, "this client may not impersonate: send an actor_token to delegate"
            )
        subject = await self.presented(context, policy, subject_token, subject_token_type, "subject_token")
        if isinstance(subject, TokenRequestValidationError):
            return subject
        actor: ValidatedSubjectToken | None = None
        if actor_token and actor_token_type:
            presented_actor = await self.presented(context, policy, actor_token, actor_token_type, "actor_token")
            if isinstance(presented_actor, TokenRequestValidationError):
                return presented_actor
            actor = presented_actor
        if subject.is_local and not await self.is_active(subject, context):
            return error(TokenErrors.INVALID_REQUEST, "the subject of the subject_token may no longer get tokens")
        party = (
            {"sub": actor.subject_id, "iss": actor.issuer, "client_id": actor.claims.get("client_id")}
            if actor
            else {"sub": client.client_id, "iss": request.issuer, "client_id": client.client_id}
        )
        if not may_act_allows(subject.claims.get("may_act"), party):
            return error(TokenErrors.INVALID_REQUEST, "the subject_token does not allow this party to act for it")
        prior = subject.claims.get("act")
        act = actor_claim(actor, request.issuer, prior) if actor else prior
        depth = act_depth(act)
        if depth > policy.max_delegation_depth:
            return error(
                TokenErrors.INVALID_REQUEST,
                f"the delegation chain would be {depth} actors deep; this client allows {policy.max_delegation_depth}",
            )
        failure = await self.resources(context, policy, subject)
        if failure is not None:
            return failure
        request.subject = self.issued_subject(subject, act)
        request.session_id = request.subject.session_id if subject.is_local else None
        expires = subject.claims.get("exp")
        if isinstance(expires, int | float):
            # the exchanged token does not outlive the token it was exchanged for
            remaining = int(expires - context.clock.timestamp())
            request.access_token_lifetime = max(1, min(request.access_token_lifetime, remaining))
        return _Exchange(subject, actor, depth, issued_token_type)

    async def presented(
        self, context: GrantValidationContext, policy: TokenExchangePolicy, token: str, token_type: str, what: str
    ) -> ValidatedSubjectToken | TokenRequestValidationError:
        """A subject or actor token, validated and presented by its holder."""
        request = context.request
        found = await self.tokens.validate(token, token_type, request.issuer, policy.subject_token_issuers, what)
        if isinstance(found, SubjectTokenError):
            return error(TokenErrors.INVALID_REQUEST, found.description)
        if found.is_identity_token and not audience_includes(found.claims.get("aud"), request.client.client_id):
            # an ID token authenticates the user to the client it was issued to (OIDC Core §2 aud); it is not a
            # grant any other holder may turn into access tokens (ID tokens travel in logout URLs and logs)
            return error(TokenErrors.INVALID_REQUEST, f"the {what} is an ID token issued to another client")
        problem = holder_problem(found, context.http, request, what)
        if problem is not None:
            return error(TokenErrors.INVALID_REQUEST, problem)
        return found

    async def is_active(self, subject: ValidatedSubjectToken, context: GrantValidationContext) -> bool:
        """Whether the profile service still issues tokens to the subject (a user; a client's own token is checked
        by the token validator, which refuses tokens of disabled clients)."""
        if subject.subject_id == subject.claims.get("client_id"):
            return True
        principal = Principal([Claim("sub", subject.subject_id)])
        active = IsActiveContext(principal, context.request.client, ProfileCallers.TOKEN_ENDPOINT)
        await self.profile.is_active(active)
        return active.is_active

    async def resources(
        self, context: GrantValidationContext, policy: TokenExchangePolicy, subject: ValidatedSubjectToken
    ) -> TokenRequestValidationError | None:
        """Scopes that narrow the subject token's, and targets (``audience``, ``resource``) within policy; the
        issued token's audience is the targets when given, else the API resources of its scopes."""
        request = context.request
        client = request.client
        limits = context.options.input_length_restrictions
        requested = parse_requested_scopes(request.raw.get("scope"), limits.scope, context.scope_parser)
        if isinstance(requested, TokenRequestValidationError):
            return requested
        permitted = [s for s in client.allowed_scopes if policy.scopes is None or s in policy.scopes]
        if subject.scopes is not None:
            permitted = [s for s in permitted if s in subject.scopes]
        if requested is None:
            scopes = [s for s in permitted if s != StandardScopes.OFFLINE_ACCESS]
            if not scopes:
                return error(TokenErrors.INVALID_SCOPE, "the subject_token has no scope this client may exchange")
        else:
            scopes = requested
            for scope in scopes:
                if scope == StandardScopes.OFFLINE_ACCESS:
                    return error(TokenErrors.INVALID_SCOPE, "token exchange issues no refresh tokens")
                if scope not in permitted:
                    return error(
                        TokenErrors.INVALID_SCOPE,
                        f"scope '{scope}' is not available: token exchange can only narrow the subject's scopes",
                    )
        targets = [*request.raw.get_all("audience"), *request.raw.get_all("resource")]
        for resource in request.raw.get_all("resource"):
            if not resource_indicator_is_valid(resource, limits.resource_indicator_max_length):
                return error(TokenErrors.INVALID_TARGET, "resource must be an absolute URI without a fragment")
        for target in targets:
            if target not in policy.audiences:
                return error(TokenErrors.INVALID_TARGET, f"this client may not ask for a token for '{target[:200]}'")
        outcome = await context.resources.validate_requested_resources(client, scopes, targets)
        if isinstance(outcome, ResourceValidationError):
            return error(outcome.error, outcome.description)
        narrowed = narrow_to_targets(outcome, targets)
        if not narrowed.parsed_scopes:
            return error(TokenErrors.INVALID_TARGET, "no requested scope is valid for the requested audience")
        request.validated_resources = narrowed
        request.requested_scopes = scopes
        request.requested_resource_indicator = targets[0] if len(targets) == 1 else None
        return None

    def issued_subject(self, subject: ValidatedSubjectToken, act: object) -> Principal:
        """The subject of the issued token: the subject token's ``sub`` and authentication facts (of this server's
        tokens only), and the ``act`` chain."""
        claims = [Claim("sub", subject.subject_id)]
        if subject.is_local:
            for name in CARRIED_CLAIMS:
                value = subject.claims.get(name)
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, str | int) and not isinstance(item, bool):
                        claims.append(Claim.of(name, item))
        if isinstance(act, dict):
            claims.append(Claim.of("act", act))
        return Principal(claims)


def audience_includes(aud: object, client_id: str) -> bool:
    return aud == client_id or (isinstance(aud, list) and client_id in aud)


def narrow_to_targets(outcome: ResourceValidationResult, targets: list[str]) -> ResourceValidationResult:
    """Without targets: the API resources the scopes reach (as any grant). With targets: only those API resources
    and the scopes that reach them (RFC 8693 §2.1, RFC 8707 §2), plus identity scopes."""
    if not targets:
        return outcome.filter_by_resource_indicator(None)
    wanted = set(targets)
    api_resources = [r for r in outcome.resources.api_resources if r.name in wanted]
    scope_names = {s for r in api_resources for s in r.scopes}
    identity = {r.name for r in outcome.resources.identity_resources}
    return ResourceValidationResult(
        Resources(
            outcome.resources.identity_resources,
            api_resources,
            [s for s in outcome.resources.api_scopes if s.name in scope_names],
            False,
        ),
        [p for p in outcome.parsed_scopes if p.parsed_name in scope_names or p.parsed_name in identity],
        targets[0] if len(targets) == 1 else None,
    )
