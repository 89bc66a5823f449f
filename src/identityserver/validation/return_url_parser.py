"""Reads the authorize request behind a login or consent page's ``returnUrl`` (Duende ``OidcReturnUrlParser``):
only a local authorize-callback URL whose parameters still pass the authorize request validator."""

from __future__ import annotations

from identityserver._utils.urls import split_authorize_callback_url
from identityserver.models.messages import AuthorizationRequest
from identityserver.services.interaction import request_id
from identityserver.validation.authorize_request import AuthorizeRequestValidator
from identityserver.validation.authorize_results import AuthorizeRequestValidationError
from identityserver.validation.claims_request import individually_requested_claims


class OidcReturnUrlParser:
    """The default ``ReturnUrlParser``: a local authorize-callback URL whose parameters still pass the authorize request
    validator."""

    def __init__(self, validator: AuthorizeRequestValidator) -> None:
        self.validator = validator

    async def parse(self, return_url: str | None, issuer: str) -> AuthorizationRequest | None:
        """The validated request behind a login/consent ``returnUrl``; ``None`` when it is not one."""
        split = split_authorize_callback_url(return_url)
        if split is None:
            return None
        params, resources = split
        result = await self.validator.validate(params, issuer, resource_values=resources)
        if isinstance(result, AuthorizeRequestValidationError):
            return None
        request = result.validated_request
        return AuthorizationRequest(
            client=request.client,
            redirect_uri=request.validated_redirect_uri(),
            validated_resources=request.validated_resources,
            parameters=dict(request.raw),
            request_id=request_id(params, resources, None),
            display_mode=request.display_mode,
            ui_locales=request.ui_locales,
            login_hint=request.login_hint,
            prompt_modes=list(request.prompt_modes),
            acr_values=list(request.acr_values),
            requested_scopes=list(request.requested_scopes),
            requested_claims=individually_requested_claims(request),
            idp=next((v[4:] for v in request.acr_values if v.startswith("idp:")), None),
            tenant=next((v[7:] for v in request.acr_values if v.startswith("tenant:")), None),
        )
