"""The authorize request validator (Duende ``AuthorizeRequestValidator``): find the client, then an ordered list
of small steps that stops at the first error, then the custom validators. Errors before the client and redirect
URI are validated go to the error page; the rest go back to the client (RFC 6749 §4.1.2.1; OIDC Core
§3.1.2.1-§3.1.2.6)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence

from identityserver._utils.urls import is_absolute_uri
from identityserver.constants import AuthorizeErrors, GrantType, StandardScopes
from identityserver.models.claims import Principal
from identityserver.models.client import Client
from identityserver.models.security_profile import apply_security_profile
from identityserver.options import IdentityServerOptions
from identityserver.stores.protocols import ClientStore
from identityserver.validation.authorize_results import (
    AuthorizeRequestValidationError,
    AuthorizeRequestValidationResult,
    ValidatedAuthorizeRequest,
)
from identityserver.validation.claims_request import ClaimsParameterValidator, parameter_text
from identityserver.validation.identity_token import IdentityTokenValidator
from identityserver.validation.jarm import delivery_mode, resolve_response_mode
from identityserver.validation.jwt_request import JwtRequestValidator, outside_request_object
from identityserver.validation.pkce import PLAIN, S256, is_valid_pkce_value
from identityserver.validation.protocols import (
    CustomAuthorizeRequestValidationContext,
    CustomAuthorizeRequestValidator,
    RedirectUriValidator,
)
from identityserver.validation.request_uri import RequestUriResolver
from identityserver.validation.resources import (
    DefaultResourceValidator,
    ResourceValidationError,
    resource_indicator_is_valid,
)
from identityserver.validation.security_profile import enforce_security_profile

#: response_type (order-insensitive) -> the grant type the client must allow (Duende ``ResponseTypeToGrantTypeMapping``)
RESPONSE_TYPE_GRANTS = {
    frozenset({"code"}): GrantType.AUTHORIZATION_CODE,
    frozenset({"token"}): GrantType.IMPLICIT,
    frozenset({"id_token"}): GrantType.IMPLICIT,
    frozenset({"id_token", "token"}): GrantType.IMPLICIT,
    frozenset({"code", "id_token"}): GrantType.HYBRID,
    frozenset({"code", "token"}): GrantType.HYBRID,
    frozenset({"code", "id_token", "token"}): GrantType.HYBRID,
}
RESPONSE_MODES = {
    GrantType.AUTHORIZATION_CODE: ("query", "fragment", "form_post"),
    GrantType.IMPLICIT: ("fragment", "form_post"),
    GrantType.HYBRID: ("fragment", "form_post"),
}
DEFAULT_RESPONSE_MODE = {
    GrantType.AUTHORIZATION_CODE: "query",
    GrantType.IMPLICIT: "fragment",
    GrantType.HYBRID: "fragment",
}
BASE_PROMPT_VALUES = ("none", "login", "consent", "select_account")
DISPLAY_VALUES = ("page", "popup", "touch", "wap")
#: Parameters that may repeat (RFC 8707 §2).
REPEATABLE = ("resource",)

#: A validation step: reads and fills in the request; returns the error that ends validation, or ``None``.
AuthorizeRequestValidationStep = Callable[
    [ValidatedAuthorizeRequest], Awaitable[AuthorizeRequestValidationError | None]
]


def normalize_response_type(value: str) -> str:
    """A canonical, order-independent spelling (``code id_token token``)."""
    order = {"code": 0, "id_token": 1, "token": 2}
    return " ".join(sorted(value.split(), key=lambda part: order.get(part, 9)))


class AuthorizeRequestValidator:
    """``validate`` finds the client (:meth:`validate_client`), runs :meth:`steps` in order until one returns an
    error, then the custom validators in registration order. Subclass and override :meth:`steps` to add a step."""

    def __init__(
        self,
        options: IdentityServerOptions,
        clients: ClientStore,
        resources: DefaultResourceValidator,
        redirect_uris: RedirectUriValidator,
        request_objects: JwtRequestValidator,
        id_token_hints: IdentityTokenValidator,
        custom_validators: Sequence[CustomAuthorizeRequestValidator] = (),
        request_uris: RequestUriResolver | None = None,
    ) -> None:
        self.options = options
        self.request_uris = request_uris
        """Resolves ``request_uri`` (pushed requests and JAR by reference); ``None`` refuses it."""
        self.clients = clients
        self.resources = resources
        self.redirect_uris = redirect_uris
        self.request_objects = request_objects
        self.id_token_hints = id_token_hints
        self.claims_parameter = ClaimsParameterValidator(resources.store)  # OIDC Core §5.5
        self.custom_validators = list(custom_validators or ())
        self.limits = options.input_length_restrictions
        self.prompt_values_supported = BASE_PROMPT_VALUES + (
            ("create",) if options.user_interaction.create_account_url else ()
        )

    async def validate(
        self,
        parameters: dict[str, str],
        issuer: str,
        subject: Principal | None = None,
        repeated: list[str] | None = None,
        resource_values: list[str] | None = None,
        *,
        pushed: bool = False,
    ) -> AuthorizeRequestValidationResult | AuthorizeRequestValidationError:
        """Validate the parameters of an authorize request; ``repeated`` names the parameters sent more than once
        and ``resource_values`` are the RFC 8707 resource indicators; ``pushed`` when they are being pushed to
        ``/connect/par`` (RFC 9126 §2.1)."""
        raw = dict(parameters)
        repeated = list(repeated or [])
        if "client_id" in repeated or "redirect_uri" in repeated:
            return AuthorizeRequestValidationError(
                AuthorizeErrors.INVALID_REQUEST, "client_id or redirect_uri was sent twice", raw
            )
        client = await self.validate_client(raw)
        if isinstance(client, AuthorizeRequestValidationError):
            return client
        request = ValidatedAuthorizeRequest(
            raw=raw,
            issuer=issuer,
            client=client,
            subject=subject,
            requested_resource_indicators=list(resource_values or []),
            repeated_parameters=repeated,
            pushed_authorization=pushed,
        )
        for step in self.steps():
            failure = await step(request)
            if failure is not None:
                return failure
        return await self.run_custom_validators(AuthorizeRequestValidationResult(request))

    def steps(self) -> list[AuthorizeRequestValidationStep]:
        """The steps ``validate`` runs in this order once the client is found; the first error ends validation.

        Each step reads ``request.raw`` and fills in its part of the request. Errors of the first two go to the
        error page (the redirect URI is not trusted yet); from ``validate_state`` on they go back to the client
        and carry ``state``. To add a step, override and insert it, e.g. after ``validate_state``::

            def steps(self):
                steps = super().steps()
                return [*steps[:3], self.check_tenant, *steps[3:]]

            async def check_tenant(self, request):
                if request.raw.get("tenant") not in request.client.properties.get("tenants", "").split():
                    return self.fail(request, "invalid_request", "unknown tenant")
                return None
        """
        return [
            self.load_request_object,
            self.validate_redirect_uri,
            self.validate_state,
            self.reject_repeated_parameters,
            self.validate_response_type,
            self.validate_scope_and_resources,
            self.validate_nonce,
            self.validate_pkce,
            self.validate_optional_parameters,
            self.validate_id_token_hint,
            self.claims_parameter.validate_claims_parameter,
            enforce_security_profile,  # FAPI 2.0 clauses the steps above do not cover
        ]

    async def run_custom_validators(
        self, result: AuthorizeRequestValidationResult
    ) -> AuthorizeRequestValidationResult | AuthorizeRequestValidationError:
        """Run the custom validators in registration order; the first one that rejects the request (``is_error``
        or ``error`` set on ``context.result``) ends validation with an error that goes back to the client."""
        for custom in self.custom_validators:
            context = CustomAuthorizeRequestValidationContext(result)
            await custom.validate(context)
            result = context.result
            if result.is_rejected:
                request = result.validated_request
                return self.fail(request, result.error or AuthorizeErrors.INVALID_REQUEST, result.error_description)
        return result

    @staticmethod
    def fail(
        request: ValidatedAuthorizeRequest, error: str, description: str | None
    ) -> AuthorizeRequestValidationError:
        """The error that ends validation; it goes back to the client once the redirect URI is validated."""
        return AuthorizeRequestValidationError(
            error, description, request.raw, request, redirectable=request.redirect_uri is not None
        )

    # -- before the redirect URI is trusted: errors show the error page ------------------------------------

    async def validate_client(self, raw: dict[str, str]) -> Client | AuthorizeRequestValidationError:
        """Find the enabled OpenID Connect client named by ``client_id`` (before any step runs)."""

        def fail(error: str, description: str) -> AuthorizeRequestValidationError:
            return AuthorizeRequestValidationError(error, description, raw)

        client_id = raw.get("client_id")
        if not client_id or len(client_id) > self.limits.client_id:
            return fail(AuthorizeErrors.INVALID_REQUEST, "client_id is missing or too long")
        client = await self.clients.find_client_by_id(client_id)
        if client is None or not client.enabled:
            return fail(AuthorizeErrors.UNAUTHORIZED_CLIENT, "unknown or disabled client")
        if client.protocol_type != "oidc":
            return fail(AuthorizeErrors.UNAUTHORIZED_CLIENT, "client is not an OpenID Connect client")
        return apply_security_profile(client, self.options.security_profile)  # FAPI 2.0: docs/fapi.md

    async def load_request_object(self, request: ValidatedAuthorizeRequest) -> AuthorizeRequestValidationError | None:
        """RFC 9101: claims of a signed ``request`` object override the query parameters; ``request_uri`` is a pushed
        request or an object by reference (:class:`RequestUriResolver`); required for ``require_request_object``
        clients, which may send only ``client_id``, ``response_type`` and ``scope`` beside it."""
        if self.request_uris is not None:
            unusable = await self.request_uris.resolve(request)
            if unusable is not None:
                return self.fail(request, unusable.error, unusable.description)
        elif "request_uri" in request.raw:
            return self.fail(request, AuthorizeErrors.REQUEST_URI_NOT_SUPPORTED, "request_uri is not supported")
        token = request.raw.get("request")
        if token is None:
            if request.client.require_request_object and not request.request_object_used:
                return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "the client must use a request object")
            return None
        outcome = await self.request_objects.validate(request.client, token, request.issuer)
        if outcome.payload is None:
            return self.fail(request, AuthorizeErrors.INVALID_REQUEST_OBJECT, outcome.error or "invalid request object")
        payload = outcome.payload
        if payload.get("client_id") != request.client_id:
            return self.fail(
                request,
                AuthorizeErrors.INVALID_REQUEST_OBJECT,
                "client_id in the request object must match the client_id parameter",
            )
        if (
            "response_type" in payload
            and "response_type" in request.raw
            and (
                normalize_response_type(str(payload["response_type"]))
                != normalize_response_type(request.raw["response_type"])
            )
        ):
            return self.fail(
                request,
                AuthorizeErrors.INVALID_REQUEST_OBJECT,
                "response_type in the request object must match the parameter",
            )
        if request.client.require_request_object:
            if (outside := outside_request_object(request.raw)) is not None:
                return self.fail(request, AuthorizeErrors.INVALID_REQUEST, outside)
            request.raw = {n: v for n, v in request.raw.items() if n in ("client_id", "suppressed_prompt")}
            request.requested_resource_indicators = []
        for name, value in payload.items():
            if name in ("iss", "aud", "exp", "iat", "nbf", "jti"):
                continue
            if name == "resource":
                values = value if isinstance(value, list) else [value]
                request.requested_resource_indicators = [str(v) for v in values]
                continue
            if isinstance(value, str | int | bool | dict):  # dict: ``claims`` (OIDC Core §6.1)
                request.raw[name] = parameter_text(value)
        request.raw.pop("request", None)
        request.request_object_used = True
        return None

    async def validate_redirect_uri(self, request: ValidatedAuthorizeRequest) -> AuthorizeRequestValidationError | None:
        """Sets ``redirect_uri`` once it is an absolute URI registered for the client (RFC 6749 §3.1.2; OIDC
        Core §3.1.2.1: exact match); from then on errors go back to it."""
        redirect_uri = request.raw.get("redirect_uri")
        if not redirect_uri:
            return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "redirect_uri is missing")
        if len(redirect_uri) > self.limits.redirect_uri or (
            ":" not in redirect_uri and not is_absolute_uri(redirect_uri)
        ):
            return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "redirect_uri is malformed")
        if not await self.redirect_uris.is_redirect_uri_valid(redirect_uri, request.client):
            return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "redirect_uri is not registered for the client")
        request.redirect_uri = redirect_uri
        return None

    # -- the redirect URI is trusted: errors go back to the client --------------------------------------------

    async def validate_response_type(
        self, request: ValidatedAuthorizeRequest
    ) -> AuthorizeRequestValidationError | None:
        """Sets ``response_type``, ``grant_type`` and ``response_mode``: a supported combination the client may use
        (OAuth 2.0 Multiple Response Types §5), tokens through the browser only when the client allows them."""
        response_type = request.raw.get("response_type")
        if not response_type:
            return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "response_type is missing")
        parts = frozenset(response_type.split())
        grant = RESPONSE_TYPE_GRANTS.get(parts)
        if grant is None or len(parts) != len(response_type.split()):
            return self.fail(request, AuthorizeErrors.UNSUPPORTED_RESPONSE_TYPE, "response_type is not supported")
        request.response_type = normalize_response_type(response_type)
        request.grant_type = grant
        # the response mode is settled first so that the errors below reach the client the way it expects
        # (never a query for a response type that returns tokens: OAuth 2.0 Multiple Response Types §5)
        request.response_mode = DEFAULT_RESPONSE_MODE[grant]
        mode = request.raw.get("response_mode")
        if mode is not None:
            mode = resolve_response_mode(mode, request.response_mode)  # JARM §2.3.4: jwt -> query.jwt / fragment.jwt
            if delivery_mode(mode) not in ("query", "fragment", "form_post"):
                return self.fail(request, AuthorizeErrors.UNSUPPORTED_RESPONSE_TYPE, "response_mode is not supported")
            if delivery_mode(mode) not in RESPONSE_MODES[grant]:
                return self.fail(
                    request,
                    AuthorizeErrors.INVALID_REQUEST,
                    "response_mode query is not allowed for this response_type",
                )
            request.response_mode = mode
        allowed = request.client.allowed_grant_types
        if grant not in allowed and not (grant == GrantType.AUTHORIZATION_CODE and GrantType.HYBRID in allowed):
            return self.fail(
                request, AuthorizeErrors.UNAUTHORIZED_CLIENT, "the client is not allowed to use this response_type"
            )
        if "token" in parts and not request.client.allow_access_tokens_via_browser:
            return self.fail(
                request,
                AuthorizeErrors.UNAUTHORIZED_CLIENT,
                "the client may not receive access tokens through the browser",
            )
        return None

    async def validate_state(self, request: ValidatedAuthorizeRequest) -> AuthorizeRequestValidationError | None:
        """Sets ``state`` right after the redirect URI, since every error response carries it (RFC 6749
        §4.1.2.1); a repeated ``state`` is not used."""
        if "state" in request.repeated_parameters:
            return None
        state = request.raw.get("state")
        if state is not None and len(state) > self.limits.state:
            return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "state is too long")
        request.state = state
        return None

    async def reject_repeated_parameters(
        self, request: ValidatedAuthorizeRequest
    ) -> AuthorizeRequestValidationError | None:
        """Refuses a request with a parameter sent more than once (RFC 6749 §3.1)."""
        if request.repeated_parameters:
            name = request.repeated_parameters[0]
            return self.fail(request, AuthorizeErrors.INVALID_REQUEST, f"parameter '{name}' was sent twice")
        return None

    async def validate_scope_and_resources(
        self, request: ValidatedAuthorizeRequest
    ) -> AuthorizeRequestValidationError | None:
        """Sets ``requested_scopes``, ``requested_resource_indicators`` and ``validated_resources``: scopes and RFC
        8707 resources the client may request, and consistent with the response type (OIDC Core §3.1.2.1)."""
        scope = request.raw.get("scope")
        if not scope or not scope.strip():
            return self.fail(request, AuthorizeErrors.INVALID_SCOPE, "scope is missing")
        if len(scope) > self.limits.scope:
            return self.fail(request, AuthorizeErrors.INVALID_SCOPE, "scope is too long")
        parsed = self.resources.scope_parser.parse_scope_values(scope)
        if parsed is None:
            return self.fail(request, AuthorizeErrors.INVALID_SCOPE, "scope contains invalid characters")
        scopes = [p.raw_value for p in parsed]
        request.requested_scopes = scopes
        types = request.response_types
        if "id_token" in types and StandardScopes.OPENID not in scopes:
            return self.fail(request, AuthorizeErrors.INVALID_SCOPE, "the openid scope is required for id_token")
        indicators = [r for r in request.requested_resource_indicators if r]
        for indicator in indicators:
            if not resource_indicator_is_valid(indicator, self.limits.resource_indicator_max_length):
                return self.fail(
                    request, AuthorizeErrors.INVALID_TARGET, "resource must be an absolute URI without a fragment"
                )
        if indicators and "code" not in types:
            return self.fail(request, AuthorizeErrors.INVALID_TARGET, "resource indicators need the code flow")
        validated = await self.resources.validate_requested_resources(request.client, scopes, indicators)
        if isinstance(validated, ResourceValidationError):
            return self.fail(request, validated.error, validated.description)
        request.requested_resource_indicators = indicators
        request.validated_resources = validated
        identity = validated.resources.identity_resources
        if identity and StandardScopes.OPENID not in scopes:
            return self.fail(request, AuthorizeErrors.INVALID_SCOPE, "identity scopes require the openid scope")
        if types == ["id_token"] and (validated.resources.api_scopes or validated.resources.offline_access):
            return self.fail(request, AuthorizeErrors.INVALID_SCOPE, "id_token responses cannot carry API scopes")
        if types == ["token"] and identity:
            return self.fail(request, AuthorizeErrors.INVALID_SCOPE, "token responses cannot carry identity scopes")
        return None

    async def validate_nonce(self, request: ValidatedAuthorizeRequest) -> AuthorizeRequestValidationError | None:
        """Sets ``nonce``, required when an ID token is returned from the authorization endpoint (OIDC Core
        §3.2.2.1)."""
        nonce = request.raw.get("nonce")
        if nonce is not None and len(nonce) > self.limits.nonce:
            return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "nonce is too long")
        if not nonce and "id_token" in request.response_types:
            return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "nonce is required for id_token responses")
        request.nonce = nonce or None
        return None

    async def validate_pkce(self, request: ValidatedAuthorizeRequest) -> AuthorizeRequestValidationError | None:
        """Sets ``code_challenge`` and its method for code flows (RFC 7636 §4.3); a missing method means ``plain``,
        refused unless the client allows it."""
        if "code" not in request.response_types:
            return None
        challenge = request.raw.get("code_challenge")
        if not challenge:
            if request.client.require_pkce:
                return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "code_challenge is required")
            return None
        if not is_valid_pkce_value(
            challenge, self.limits.code_challenge_min_length, self.limits.code_challenge_max_length
        ):
            return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "code_challenge is malformed")
        method = request.raw.get("code_challenge_method") or PLAIN
        if method not in (S256, PLAIN):
            return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "code_challenge_method is not supported")
        if method == PLAIN and not request.client.allow_plain_text_pkce:
            return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "code_challenge_method plain is not allowed")
        request.code_challenge = challenge
        request.code_challenge_method = method
        return None

    async def validate_optional_parameters(
        self, request: ValidatedAuthorizeRequest
    ) -> AuthorizeRequestValidationError | None:
        """Sets ``prompt_modes``, ``max_age``, ``ui_locales``, ``login_hint``, ``acr_values``, ``display_mode`` and
        ``dpop_key_thumbprint`` (OIDC Core §3.1.2.1; RFC 9449 §10); unknown prompt and display values are ignored."""
        raw = request.raw
        prompt = raw.get("prompt")
        if prompt is not None:
            modes = [p for p in prompt.split(" ") if p]
            supported = [p for p in modes if p in self.prompt_values_supported]  # unknown values are ignored
            if len(supported) > 1 and ("none" in supported or "create" in supported):
                return self.fail(
                    request,
                    AuthorizeErrors.INVALID_REQUEST,
                    "prompt none or create cannot be combined with other values",
                )
            request.prompt_modes = supported
        suppressed = raw.get("suppressed_prompt")
        if suppressed:
            request.suppressed_prompt = suppressed.split(" ")
            request.prompt_modes = [p for p in request.prompt_modes if p not in request.suppressed_prompt]
        max_age = raw.get("max_age")
        if max_age is not None:
            if not re.fullmatch(r"[0-9]{1,10}", max_age):
                return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "max_age must be a non-negative integer")
            request.max_age = int(max_age)
        checks = (
            ("ui_locales", self.limits.ui_locale),
            ("login_hint", self.limits.login_hint),
            ("acr_values", self.limits.acr_values),
        )
        for name, limit in checks:
            value = raw.get(name)
            if value is not None and len(value) > limit:
                return self.fail(request, AuthorizeErrors.INVALID_REQUEST, f"{name} is too long")
        request.ui_locales = raw.get("ui_locales")
        request.login_hint = raw.get("login_hint")
        request.acr_values = (raw.get("acr_values") or "").split()
        display = raw.get("display")
        request.display_mode = display if display in DISPLAY_VALUES else None
        jkt = raw.get("dpop_jkt")
        if jkt is not None:
            if not jkt or len(jkt) > self.limits.dpop_key_thumbprint:
                return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "dpop_jkt is malformed")
            request.dpop_key_thumbprint = jkt
        return None

    async def validate_id_token_hint(
        self, request: ValidatedAuthorizeRequest
    ) -> AuthorizeRequestValidationError | None:
        """Sets ``id_token_hint_claims`` from an ID token this server issued to the client (OIDC Core §3.1.2.1: an
        expired one is still a valid hint)."""
        hint = request.raw.get("id_token_hint")
        if hint is None:
            return None
        if len(hint) > self.limits.id_token_hint:
            return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "id_token_hint is too long")
        claims = await self.id_token_hints.validate(hint, request.issuer, request.client_id)
        if claims is None:
            return self.fail(request, AuthorizeErrors.INVALID_REQUEST, "id_token_hint is invalid")
        request.id_token_hint_claims = claims
        return None
