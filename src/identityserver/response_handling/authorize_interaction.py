"""Decides whether an authorize request needs the user: login, consent or account creation (Duende
``AuthorizeInteractionResponseGenerator``; OIDC Core §3.1.2.1 prompt/max_age, §3.1.2.6 errors)."""

from __future__ import annotations

from dataclasses import dataclass

from identityserver.clock import Clock
from identityserver.constants import AuthorizeErrors
from identityserver.models.contexts import IsActiveContext, ProfileCallers
from identityserver.models.messages import ConsentResponse
from identityserver.models.resources import Resources, ResourceValidationResult
from identityserver.services.protocols import ConsentService, ProfileService
from identityserver.services.sign_in_protocols import MFA_AMR, second_factor_required
from identityserver.validation.authorize_results import ValidatedAuthorizeRequest
from identityserver.validation.claims_request import (
    individually_requested_claims,
    requested_subject_mismatch,
    unmet_essential_acr,
)


@dataclass(slots=True)
class InteractionResponse:
    is_login: bool = False
    is_consent: bool = False
    is_create_account: bool = False
    error: str | None = None
    error_description: str | None = None

    @property
    def is_error(self) -> bool:
        return self.error is not None

    @property
    def is_interaction(self) -> bool:
        return self.is_login or self.is_consent or self.is_create_account


class AuthorizeInteractionResponseGenerator:
    """Decides what an authorize request needs from the user (Duende ``AuthorizeInteractionResponseGenerator``): create
    an account, log in, consent, or an error such as ``login_required`` (OIDC Core §3.1.2.6); override a step to change
    the policy."""

    def __init__(
        self, consent: ConsentService, profile: ProfileService, clock: Clock, mfa_acr_value: str = "mfa"
    ) -> None:
        self.consent = consent
        self.profile = profile
        self.clock = clock
        self.mfa_acr_value = mfa_acr_value

    async def process_interaction(
        self, request: ValidatedAuthorizeRequest, consent: ConsentResponse | None = None
    ) -> InteractionResponse:
        """Account creation, then login, then consent: the first that applies ends the decision; a denied consent is the
        error it carries."""
        if consent is not None and consent.error is not None:
            return InteractionResponse(error=consent.error.value, error_description=consent.error_description)
        response = await self.process_create_account(request)
        if response.is_create_account or response.is_error:
            return response
        response = await self.process_login(request)
        if response.is_login or response.is_error:
            return response
        return await self.process_consent(request, consent)

    async def process_create_account(self, request: ValidatedAuthorizeRequest) -> InteractionResponse:
        """OIDC Prompt Create 1.0: ``prompt=create`` sends the user to the registration page first."""
        if "create" in request.prompt_modes:
            return InteractionResponse(is_create_account=True)
        return InteractionResponse()

    async def process_login(self, request: ValidatedAuthorizeRequest) -> InteractionResponse:
        """Send the user to login when ``login_required``; with ``prompt=none`` that is the ``login_required`` error
        instead."""
        needs_login = await self.login_required(request)
        if needs_login and "none" in request.prompt_modes:
            return InteractionResponse(error=AuthorizeErrors.LOGIN_REQUIRED, error_description="the user must sign in")
        if not needs_login and unmet_essential_acr(request, request.authenticated_subject().find_first("acr")):
            # OIDC Core §5.5.1.1: an essential acr that cannot be met is a failed authentication
            return InteractionResponse(
                error=AuthorizeErrors.UNMET_AUTHENTICATION_REQUIREMENTS,
                error_description="the essential acr requested cannot be satisfied",
            )
        if not needs_login and self.second_factor_missing(request):
            if "none" in request.prompt_modes:
                # IdentityServer 6.3 / OIDC Core §3.1.2.6: the session cannot meet the requirement without the user
                return InteractionResponse(
                    error=AuthorizeErrors.UNMET_AUTHENTICATION_REQUIREMENTS,
                    error_description="the user must sign in with a second factor",
                )
            needs_login = True
        return InteractionResponse(is_login=needs_login)

    def second_factor_missing(self, request: ValidatedAuthorizeRequest) -> bool:
        """The client (``require_mfa``) or ``acr_values`` ask for a second factor the session lacks (sign-in.md)."""
        subject = request.subject
        if subject is None or not second_factor_required(request.client, request.acr_values, self.mfa_acr_value):
            return False
        return MFA_AMR not in subject.authentication_methods

    async def login_required(self, request: ValidatedAuthorizeRequest) -> bool:
        """Whether the user must (re-)authenticate: ``prompt=login``/``select_account``, no or an inactive user,
        ``max_age`` or the client's ``user_sso_lifetime`` exceeded, an identity provider the client or ``acr_values``
        (``idp:``) does not accept, or an ``id_token_hint`` or a ``claims`` request for the ``sub`` of another user."""
        if "login" in request.prompt_modes or "select_account" in request.prompt_modes:
            return True
        subject = request.subject
        client = request.client
        if subject is None:
            return True
        context = IsActiveContext(subject, client, ProfileCallers.AUTHORIZE_ENDPOINT)
        await self.profile.is_active(context)
        if not context.is_active:
            return True
        now = self.clock.timestamp()
        auth_time = subject.auth_time or 0
        if request.max_age is not None and auth_time + request.max_age < now:
            return True
        if client.user_sso_lifetime is not None and auth_time + client.user_sso_lifetime < now:
            return True
        idp = subject.identity_provider or "local"
        if client.identity_provider_restrictions and idp not in client.identity_provider_restrictions:
            return True
        if not client.enable_local_login and idp == "local":
            return True
        wanted_idp = next((v[4:] for v in request.acr_values if v.startswith("idp:")), None)
        if wanted_idp and wanted_idp != idp:
            return True
        hint = request.id_token_hint_claims
        if hint and hint.get("sub") != subject.subject_id:
            return True
        return requested_subject_mismatch(request, subject.subject_id)  # OIDC Core §5.5.1

    async def process_consent(
        self, request: ValidatedAuthorizeRequest, consent: ConsentResponse | None
    ) -> InteractionResponse:
        """Runs after ``process_login``, so the user is signed in."""
        subject = request.authenticated_subject()
        if consent is not None:
            return await self.apply_consent(request, consent)
        # OIDC Core §5.5: claims asked for individually are not covered by a consent remembered for the scopes
        individual = request.client.require_consent and bool(individually_requested_claims(request))
        required = (
            "consent" in request.prompt_modes
            or individual
            or await self.consent.require_consent(
                subject.subject_id, request.client, request.validated_resources.raw_scope_values
            )
        )
        if required and "none" in request.prompt_modes:
            return InteractionResponse(
                error=AuthorizeErrors.CONSENT_REQUIRED, error_description="the user must consent"
            )
        return InteractionResponse(is_consent=required)

    async def apply_consent(self, request: ValidatedAuthorizeRequest, consent: ConsentResponse) -> InteractionResponse:
        """Narrow the request to the consented scopes; required scopes must be among them."""
        subject = request.authenticated_subject()
        granted = set(consent.scopes_values_consented)
        resources = request.validated_resources.resources
        required = {r.name for r in resources.identity_resources if r.required}
        required |= {s.name for s in resources.api_scopes if s.required}
        if not granted or not required.issubset(granted):
            return InteractionResponse(
                error=AuthorizeErrors.ACCESS_DENIED, error_description="required scopes were not consented"
            )
        if not granted.issubset(request.validated_resources.raw_scope_values):
            return InteractionResponse(
                error=AuthorizeErrors.ACCESS_DENIED, error_description="consent covers scopes that were not requested"
            )
        request.validated_resources = narrow(request.validated_resources, granted)
        request.was_consent_shown = True
        if consent.remember_consent:
            await self.consent.update_consent(subject.subject_id, request.client, sorted(granted))
        return InteractionResponse()


def narrow(validated: ResourceValidationResult, scopes: set[str]) -> ResourceValidationResult:
    resources = validated.resources
    api_scopes = [s for s in resources.api_scopes if s.name in scopes]
    names = {s.name for s in api_scopes}
    return ResourceValidationResult(
        Resources(
            [r for r in resources.identity_resources if r.name in scopes],
            [a for a in resources.api_resources if names.intersection(a.scopes)],
            api_scopes,
            resources.offline_access and "offline_access" in scopes,
        ),
        [p for p in validated.parsed_scopes if p.raw_value in scopes],
        validated.resource_indicator,
    )
