"""Shared processing of the authorize and authorize-callback endpoints (Duende ``AuthorizeEndpointBase``)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from identityserver.constants import AuthorizeErrors
from identityserver.endpoints.results import AuthorizeResult, RedirectResult
from identityserver.events import TokenIssuedSuccessEvent, issued_tokens
from identityserver.http.parameters import Parameters
from identityserver.http.request import EndpointRequest
from identityserver.models.messages import ConsentResponse, ErrorMessage
from identityserver.options import IdentityServerOptions
from identityserver.response_handling.authorize import AuthorizeResponse, AuthorizeResponseGenerator
from identityserver.response_handling.authorize_interaction import AuthorizeInteractionResponseGenerator
from identityserver.response_handling.jarm import JarmResponseGenerator
from identityserver.response_handling.signing_check import UNSIGNABLE_ERROR, unsignable_setting
from identityserver.services.backchannel_logout import DYNAMIC_REGISTRATION_PROPERTY
from identityserver.services.interaction import CONSENT_PARAMETER
from identityserver.services.key_management.key_material import NoSigningKeyError
from identityserver.services.protocols import (
    EventService,
    IdentityServerInteractionService,
    KeyMaterialService,
    UserSessionService,
)
from identityserver.services.pushed_authorization import PushedAuthorizationRequest, PushedAuthorizationService
from identityserver.validation.authorize_request import REPEATABLE, AuthorizeRequestValidator
from identityserver.validation.authorize_results import AuthorizeRequestValidationError, ValidatedAuthorizeRequest
from identityserver.validation.jarm import delivery_mode, is_jarm_mode

CALLBACK_PATH = "/connect/authorize/callback"


def base_path(base_url: str) -> str:
    return urlsplit(base_url).path.rstrip("/")


class AuthorizeEndpointBase:
    """The authorize pipeline shared by the authorize and callback endpoints (Duende ``AuthorizeEndpointBase``):
    validate, decide the interaction, respond; errors go back to the client once its redirect URI is validated (RFC 6749
    §4.1.2.1), else to the error page."""

    def __init__(
        self,
        validator: AuthorizeRequestValidator,
        interaction: AuthorizeInteractionResponseGenerator,
        generator: AuthorizeResponseGenerator,
        user_session: UserSessionService,
        interaction_service: IdentityServerInteractionService,
        events: EventService,
        options: IdentityServerOptions,
        pushed_requests: PushedAuthorizationService | None = None,
        jarm: JarmResponseGenerator | None = None,
        keys: KeyMaterialService | None = None,
    ) -> None:
        self.keys = keys
        """Checks that the client's signing algorithms have a key before anything is issued."""
        self.jarm = jarm
        """Signs responses in the JARM ``*.jwt`` response modes."""
        self.pushed_requests = pushed_requests
        """Where pushed requests (RFC 9126) are taken from when used and kept while the user signs in."""
        self.validator = validator
        self.interaction = interaction
        self.generator = generator
        self.user_session = user_session
        self.interaction_service = interaction_service
        self.events = events
        self.options = options

    async def process_authorize_request(
        self, http: EndpointRequest, parameters: Parameters, is_callback: bool
    ) -> AuthorizeResult | RedirectResult:
        """Validate the request with the signed-in user, then send the user to login, consent or account creation, or
        answer with the authorization response."""
        ticket = await self.user_session.authenticate(http.cookies)
        subject = ticket.principal() if ticket else None
        values = dict(parameters.values)
        consent_token = values.pop(CONSENT_PARAMETER, None) if is_callback else None
        if not is_callback:
            values.pop("suppressed_prompt", None)  # only the engine may suppress a prompt
        resources = parameters.get_all("resource")
        values.pop("resource", None)
        repeated = [n for n in parameters.repeated if n not in REPEATABLE]
        result = await self.validator.validate(values, http.issuer, subject, repeated, resources)
        if isinstance(result, AuthorizeRequestValidationError):
            return await self.create_error_result(http, result, validation_error=True)
        request = result.validated_request
        request.session_id = ticket.session_id if ticket else None
        unsignable = await self.unsignable_setting(request)
        if unsignable is not None:
            # the response could not be signed as the client asks: shown on the error page, nothing is issued
            failure = AuthorizeRequestValidationError(UNSIGNABLE_ERROR, unsignable, request.raw, request)
            return await self.create_error_result(http, failure)
        if request.pushed_request_uri is not None:
            used_up = await self.take_pushed_request(request)
            if used_up is not None:
                return await self.create_error_result(http, used_up)
        consent: ConsentResponse | None = None
        if consent_token is not None:
            consent = await self.interaction_service.read_consent_response(
                consent_token, values, resources, subject.subject_id if subject else None
            )
        outcome = await self.interaction.process_interaction(request, consent)
        if outcome.is_error:
            failure = AuthorizeRequestValidationError(
                outcome.error or "invalid_request", outcome.error_description, request.raw, request, redirectable=True
            )
            return await self.create_error_result(http, failure)
        if outcome.is_interaction:
            if self.pushed_requests is not None and (request.pushed_request_uri or request.request_object_used):
                # the pushed reference was taken and a request object's jti recorded: resume by a fresh reference
                values, resources = await self.continue_pushed_request(request), []
            return self.create_interaction_result(
                http, request, values, resources, outcome.is_login, outcome.is_create_account
            )
        try:
            response = await self.generator.create_response(request)
        except NoSigningKeyError as exc:
            # an API resource changed while the server runs names an algorithm without a key: the error page
            failure = AuthorizeRequestValidationError(UNSIGNABLE_ERROR, str(exc), request.raw, request)
            return await self.create_error_result(http, failure)
        response.custom.update(result.custom_response)
        cookies: list[str] = []
        if ticket is not None and request.client_id:
            cookies = await self.user_session.add_client(ticket, request.client_id, http.base_url.startswith("https"))
        if response.access_token or response.identity_token:
            event = TokenIssuedSuccessEvent(
                client_id=request.client_id,
                client_name=request.client.client_name if request.client else None,
                redirect_uri=request.redirect_uri,
                endpoint="Authorize",
                subject_id=subject.subject_id if subject else None,
                scopes=response.scope,
                grant_type=request.grant_type,
                tokens=issued_tokens(
                    id_token=response.identity_token, code=response.code, access_token=response.access_token
                ),
            )
            await self.events.raise_event(event, http.remote_ip)
        return await self.authorize_result(response, cookies)

    async def unsignable_setting(self, request: ValidatedAuthorizeRequest, id_token: bool = True) -> str | None:
        if self.keys is None:
            return None
        algorithms = self.jarm.signing_algorithms(request) if self.jarm is not None else None
        return await unsignable_setting(self.keys, request, algorithms, id_token)

    async def take_pushed_request(self, request: ValidatedAuthorizeRequest) -> AuthorizeRequestValidationError | None:
        """RFC 9126 §4: a pushed request's ``request_uri`` is used once (atomically, so of two parallel uses one
        fails); the error when it was used already."""
        reference = request.pushed_request_uri
        if self.pushed_requests is None or reference is None or await self.pushed_requests.take(reference):
            return None
        return AuthorizeRequestValidationError(
            AuthorizeErrors.INVALID_REQUEST_URI, "request_uri was already used", request.raw, request
        )

    async def continue_pushed_request(self, request: ValidatedAuthorizeRequest) -> dict[str, str]:
        """The parameters that resume a pushed request (or one with a request object) after login or consent: a
        fresh one-time reference to the same validated request, valid for ``interaction_lifetime``."""
        if self.pushed_requests is None:
            return {}
        parameters = {k: v for k, v in request.raw.items() if k != "suppressed_prompt"}
        continuation = PushedAuthorizationRequest(
            client_id=request.client_id,
            parameters=parameters,
            resources=list(request.requested_resource_indicators),
            request_object_used=request.request_object_used,
            pushed=request.pushed_authorization,
        )
        lifetime = self.options.pushed_authorization.interaction_lifetime
        request_uri = await self.pushed_requests.store(continuation, lifetime)
        return {"client_id": request.client_id, "request_uri": request_uri}

    async def authorize_result(self, response: AuthorizeResponse, cookies: list[str]) -> AuthorizeResult:
        """The result that delivers ``response`` to the client by its response mode (with ``iss``, RFC 9207; always
        for a FAPI 2.0 client, FAPI 2.0 SP §5.3.2.2), as one signed JWT in the ``*.jwt`` modes (JARM §2.3)."""
        request = response.request
        emit_iss = self.options.emit_issuer_identification_response_parameter or request.client.security_profile
        parameters = response.to_parameters(bool(emit_iss))
        mode = request.response_mode or "query"
        if is_jarm_mode(mode) and self.jarm is not None:
            parameters = await self.jarm.create_response(request, parameters)
        return AuthorizeResult(request.validated_redirect_uri(), delivery_mode(mode), parameters, cookies)

    def create_interaction_result(
        self,
        http: EndpointRequest,
        request: ValidatedAuthorizeRequest,
        values: dict[str, str],
        resources: list[str],
        is_login: bool,
        is_create_account: bool,
    ) -> RedirectResult:
        """Send the user to the login, create-account or consent page with a ``returnUrl`` that resumes here."""
        ui = self.options.user_interaction
        resume = dict(values)
        suppressed = set(request.suppressed_prompt)
        if is_login:
            suppressed |= {p for p in request.prompt_modes if p in ("login", "select_account")}
        if is_create_account:
            suppressed.add("create")
        if suppressed:
            resume["suppressed_prompt"] = " ".join(sorted(suppressed))
        pairs = list(resume.items()) + [("resource", r) for r in resources]
        root = base_path(http.base_url)
        return_url = f"{root}{CALLBACK_PATH}?{urlencode(pairs)}"
        if is_create_account and ui.create_account_url:
            page, parameter = ui.create_account_url, ui.create_account_return_url_parameter
        elif is_login:
            page, parameter = ui.login_url, ui.login_return_url_parameter
        else:
            page, parameter = ui.consent_url, ui.consent_return_url_parameter
        target = page if "://" in page else root + page
        return RedirectResult(f"{target}?{urlencode({parameter: return_url})}")

    async def create_error_result(
        self, http: EndpointRequest, result: AuthorizeRequestValidationError, validation_error: bool = False
    ) -> AuthorizeResult | RedirectResult:
        """An error redirected to the client when that is safe (validated redirect URI, not a self-registered client's
        request error, RFC 9700 §4.18), else the error page."""
        request = result.validated_request
        error = result.error
        if (
            validation_error
            and request is not None
            and (request.client.properties.get(DYNAMIC_REGISTRATION_PROPERTY) == "true")
        ):
            # RFC 9700 §4.18: an untrusted (self-registered) client must not turn the server into an open
            # redirector through error responses; its request errors are shown on the error page
            result.redirectable = False
        if result.redirectable and request is not None and is_jarm_mode(request.response_mode):
            # JARM §2.1: an error in a *.jwt mode is signed too; unsignable, it is shown here instead
            result.redirectable = await self.unsignable_setting(request, id_token=False) is None
        if result.redirectable and request is not None and request.redirect_uri:
            response = AuthorizeResponse(request, error=error, error_description=result.error_description)
            return await self.authorize_result(response, [])
        # RFC 6749 §4.1.2.1: never redirect to an unverified redirect URI; show the error page instead
        message = ErrorMessage(
            error=error,
            error_description=result.error_description,
            client_id=request.client_id if request is not None else None,
            ui_locales=result.raw.get("ui_locales"),
        )
        error_id = await self.interaction_service.create_error_id(message)
        ui = self.options.user_interaction
        target = ui.error_url if "://" in ui.error_url else base_path(http.base_url) + ui.error_url
        return RedirectResult(f"{target}?{urlencode({ui.error_id_parameter: error_id})}")
