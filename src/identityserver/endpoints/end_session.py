"""The end-session endpoint (Duende ``EndSessionEndpoint``; OIDC RP-Initiated Logout 1.0 §2). It validates the
request and hands it to the logout page as a protected ``logoutId``; the page asks the user to confirm unless a
valid ``id_token_hint`` was sent."""

from __future__ import annotations

from urllib.parse import urlencode

from identityserver.endpoints.authorize_base import base_path
from identityserver.endpoints.base import read_parameters
from identityserver.endpoints.results import RedirectResult, StatusCodeResult
from identityserver.http.parameters import Parameters
from identityserver.http.request import EndpointRequest
from identityserver.models.messages import ErrorMessage, LogoutMessage
from identityserver.options import IdentityServerOptions
from identityserver.services.protocols import IdentityServerInteractionService, UserSessionService
from identityserver.validation.end_session import EndSessionRequestValidator


class EndSessionEndpoint:
    """``/connect/endsession`` (OIDC RP-Initiated Logout 1.0 §2): validates the request and sends the user to the logout
    page; never redirects an invalid request."""

    def __init__(
        self,
        validator: EndSessionRequestValidator,
        user_session: UserSessionService,
        interaction: IdentityServerInteractionService,
        options: IdentityServerOptions,
    ) -> None:
        self.validator = validator
        self.user_session = user_session
        self.interaction = interaction
        self.options = options

    async def process(self, request: EndpointRequest) -> RedirectResult | StatusCodeResult:
        """Validate the parameters (GET or POST) and redirect to the logout page with a protected logout message, or to
        the error page."""
        parameters = read_parameters(request, allow_get=True)
        if not isinstance(parameters, Parameters):
            return parameters
        ui = self.options.user_interaction
        root = base_path(request.base_url)
        if parameters.duplicated() is not None:
            return await self._error(root, "a parameter was sent more than once")
        ticket = await self.user_session.authenticate(request.cookies)
        result = await self.validator.validate(parameters.values, request.issuer, ticket)
        if result.is_error:
            return await self._error(root, result.error_description or "invalid end session request")
        validated = result.request
        redirect = validated.post_logout_redirect_uri
        if redirect and validated.state is not None:
            redirect += ("&" if "?" in redirect else "?") + urlencode({"state": validated.state})
        client = validated.client
        message = LogoutMessage(
            client_id=client.client_id if client else None,
            client_name=(client.client_name or client.client_id) if client else None,
            post_logout_redirect_uri=redirect,
            state=validated.state,
            subject_id=validated.subject_id,
            session_id=validated.session_id,
            client_ids=list(ticket.client_ids) if ticket else [],
            ui_locales=validated.ui_locales,
            show_signout_prompt=not validated.has_valid_hint,
            hint_subject_id=validated.hint_subject_id,
        )
        logout_id = await self.interaction.create_logout_id(message)
        target = ui.logout_url if "://" in ui.logout_url else root + ui.logout_url
        return RedirectResult(f"{target}?{urlencode({ui.logout_id_parameter: logout_id})}")

    async def _error(self, root: str, description: str) -> RedirectResult:
        ui = self.options.user_interaction
        error_id = await self.interaction.create_error_id(ErrorMessage("invalid_request", description))
        target = ui.error_url if "://" in ui.error_url else root + ui.error_url
        return RedirectResult(f"{target}?{urlencode({ui.error_id_parameter: error_id})}")
