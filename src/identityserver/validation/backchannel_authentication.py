"""The backchannel authentication request (OpenID Connect CIBA Core 1.0 §7.1; Duende
``BackchannelAuthenticationRequestValidator``). The client is authenticated already; errors are CIBA Core §13's.

Order: the grant is allowed, the signed request object when sent or required (§7.1.1), ``scope`` with ``openid``,
``resource``, ``acr_values``, exactly one hint, ``requested_expiry``, ``binding_message``, ``user_code``, the
ping token, then the user (the ``BackchannelAuthenticationUserValidator``) and whether the user is active."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from identityserver.clock import Clock
from identityserver.constants import BackchannelAuthenticationErrors as Errors
from identityserver.constants import GrantType, StandardScopes
from identityserver.crypto.jwt import numeric_date
from identityserver.http.parameters import Parameters
from identityserver.models.backchannel_authentication import BackchannelAuthenticationUserValidatorContext
from identityserver.models.claims import Principal
from identityserver.models.client import Client
from identityserver.models.contexts import IsActiveContext, ProfileCallers
from identityserver.models.resources import ResourceValidationResult
from identityserver.options import IdentityServerOptions
from identityserver.services.backchannel_authentication import PING_MODE, BackchannelAuthenticationUserValidator
from identityserver.services.protocols import ProfileService
from identityserver.stores.protocols import ReplayCache
from identityserver.validation.identity_token import IdentityTokenValidator
from identityserver.validation.jwt_request import JwtRequestValidator
from identityserver.validation.resources import (
    DefaultResourceValidator,
    ResourceValidationError,
    resource_indicator_is_valid,
)

HINTS = ("login_hint", "id_token_hint", "login_hint_token")
#: Parameters that may stand beside a request object: client authentication and the object itself (§7.1.1).
OUTSIDE_REQUEST_OBJECT = frozenset(
    {"request", "client_id", "client_secret", "client_assertion", "client_assertion_type"}
)
#: CIBA Core §7.1: "The length of the token MUST NOT exceed 1024 characters".
MAX_NOTIFICATION_TOKEN = 1024
#: RFC 6750 §2.1 ``b64token``: what an ``Authorization: Bearer`` header can carry.
BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
#: FAPI-CIBA §5.2.2 (and the conformance suite): a signed request lives at most an hour.
MAX_REQUEST_OBJECT_LIFETIME = 3600
REQUEST_OBJECT_PURPOSE = "identityserver.ciba.request_object"


@dataclass(slots=True)
class ValidatedBackchannelAuthenticationRequest:
    """A backchannel authentication request that passed validation (Duende
    ``ValidatedBackchannelAuthenticationRequest``)."""

    client: Client
    subject: Principal
    requested_scopes: list[str]
    validated_resources: ResourceValidationResult
    expiry: int
    interval: int
    resource_indicators: list[str] = field(default_factory=list)
    acr_values: list[str] = field(default_factory=list)
    tenant: str | None = None
    idp: str | None = None
    binding_message: str | None = None
    user_code: str | None = None
    client_notification_token: str | None = None
    request_object: dict[str, Any] | None = None


@dataclass(slots=True)
class BackchannelAuthenticationRequestError:
    """A CIBA Core §13 error: 400, except ``invalid_client`` (401) and ``access_denied`` (403)."""

    error: str
    error_description: str | None = None


def _error(code: str, description: str) -> BackchannelAuthenticationRequestError:
    return BackchannelAuthenticationRequestError(code, description)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    return json.dumps(value)


class BackchannelAuthenticationRequestValidator:
    """Validates CIBA Core §7.1 requests; override a step to change a check."""

    def __init__(
        self,
        options: IdentityServerOptions,
        resources: DefaultResourceValidator,
        users: BackchannelAuthenticationUserValidator,
        profile: ProfileService,
        id_token_hints: IdentityTokenValidator,
        request_objects: JwtRequestValidator,
        replay: ReplayCache,
        clock: Clock,
    ) -> None:
        self.options = options
        self.resources = resources
        self.users = users
        self.profile = profile
        self.id_token_hints = id_token_hints
        self.request_objects = request_objects
        self.replay = replay
        self.clock = clock

    async def validate(
        self, parameters: Parameters, client: Client, issuer: str
    ) -> ValidatedBackchannelAuthenticationRequest | BackchannelAuthenticationRequestError:
        """The validated ``/connect/ciba`` request (CIBA Core §7.1; from a signed request object when sent), or the
        error to answer (§13)."""
        if GrantType.CIBA not in client.allowed_grant_types:
            return _error(Errors.UNAUTHORIZED_CLIENT, "the client is not allowed to use CIBA")
        found = await self.request_values(parameters, client, issuer)
        if isinstance(found, BackchannelAuthenticationRequestError):
            return found
        values, request_object = found
        result = await self.validate_values(values, client, issuer)
        if isinstance(result, ValidatedBackchannelAuthenticationRequest):
            result.request_object = request_object
        return result

    async def request_values(
        self, parameters: Parameters, client: Client, issuer: str
    ) -> tuple[dict[str, Any], dict[str, Any] | None] | BackchannelAuthenticationRequestError:
        """The request's parameters, from the signed request object (also returned) when one is sent or required
        (§7.1.1)."""
        plain: dict[str, Any] = parameters.as_dict()
        plain["resource"] = [v for v in parameters.get_all("resource") if v]
        token = parameters.get("request")
        if token is None:
            if client.require_request_object:
                return _error(Errors.INVALID_REQUEST, "this client must send a signed request object (request)")
            return plain, None
        if len(token) > self.options.input_length_restrictions.jwt:
            return _error(Errors.INVALID_REQUEST, "request is too long")
        outside = sorted(set(parameters.values) - OUTSIDE_REQUEST_OBJECT)
        if outside:
            return _error(Errors.INVALID_REQUEST, f"parameters outside the request object: {', '.join(outside)}")
        result = await self.request_objects.validate(client, token, issuer)
        payload = result.payload
        if payload is None:
            return _error(Errors.INVALID_REQUEST, result.error or "the request object is invalid")
        problem = await self.check_request_object_claims(payload)
        if problem is not None:
            return _error(Errors.INVALID_REQUEST, problem)
        values: dict[str, Any] = {name: _as_text(value) for name, value in payload.items() if name != "resource"}
        resource = payload.get("resource")
        if resource is not None and not (
            isinstance(resource, str) or (isinstance(resource, list) and all(isinstance(r, str) for r in resource))
        ):
            # RFC 8707 §2: resource is an absolute URI; in a JWT, a string or an array of strings
            return _error(
                Errors.INVALID_REQUEST, "resource in the request object must be a string or an array of strings"
            )
        values["resource"] = [resource] if isinstance(resource, str) else list(resource or [])
        return values, payload

    async def check_request_object_claims(self, payload: dict[str, Any]) -> str | None:
        """CIBA Core §7.1.1: ``aud``, ``iss``, ``exp``, ``iat``, ``nbf`` and ``jti`` are required; the ``jti`` is
        one-time."""
        for claim in ("iat", "nbf", "exp"):
            if numeric_date(payload.get(claim)) is None:
                return f"the request object must have {claim}"
        jti = payload.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > 200:
            return "the request object must have a jti"
        exp, nbf = numeric_date(payload["exp"]) or 0, numeric_date(payload["nbf"]) or 0
        if exp - nbf > MAX_REQUEST_OBJECT_LIFETIME:
            return "the request object must not be valid for more than 60 minutes"
        if nbf > self.clock.timestamp() + 300:
            return "the request object is not valid yet"
        if not await self.replay.add(REQUEST_OBJECT_PURPOSE, jti, max(exp - self.clock.timestamp(), 0) + 300):
            return "the request object was used before (jti)"
        return None

    async def validate_values(
        self, values: dict[str, Any], client: Client, issuer: str
    ) -> ValidatedBackchannelAuthenticationRequest | BackchannelAuthenticationRequestError:
        """Check the request's values (scope, hints, expiry, binding message, ping token) and find the user."""
        limits = self.options.input_length_restrictions
        scope = values.get("scope")
        if not scope:
            return _error(Errors.INVALID_REQUEST, "scope is missing")
        if len(scope) > limits.scope:
            return _error(Errors.INVALID_REQUEST, "scope is too long")
        parsed = self.resources.scope_parser.parse_scope_values(scope)
        if parsed is None:
            return _error(Errors.INVALID_SCOPE, "scope contains invalid characters")
        scopes = [p.raw_value for p in parsed]
        if StandardScopes.OPENID not in scopes:
            return _error(Errors.INVALID_REQUEST, "scope must contain openid (CIBA Core §7.1)")
        indicators: list[str] = [str(v) for v in values.get("resource") or []]
        for indicator in indicators:
            if not resource_indicator_is_valid(indicator, limits.resource_indicator_max_length):
                return _error(Errors.INVALID_TARGET, "resource must be an absolute URI without a fragment")
        resources = await self.resources.validate_requested_resources(client, scopes, indicators)
        if isinstance(resources, ResourceValidationError):
            return _error(resources.error, resources.description or "the requested scopes are not allowed")
        acr = values.get("acr_values")
        if acr is not None and len(acr) > limits.acr_values:
            return _error(Errors.INVALID_REQUEST, "acr_values is too long")
        acr_values = acr.split() if acr else []
        tenant = next((v[7:] for v in acr_values if v.startswith("tenant:")), None)
        idp = next((v[4:] for v in acr_values if v.startswith("idp:")), None)
        if (
            idp is not None
            and client.identity_provider_restrictions
            and idp not in client.identity_provider_restrictions
        ):
            idp = None  # as at the authorize endpoint: an idp the client may not use is ignored
        hints: dict[str, str] = {name: str(values[name]) for name in HINTS if values.get(name)}
        if len(hints) != 1:
            return _error(
                Errors.INVALID_REQUEST, "exactly one of login_hint, id_token_hint and login_hint_token is required"
            )
        hint_limits = {
            "login_hint": limits.login_hint,
            "id_token_hint": limits.id_token_hint,
            "login_hint_token": limits.login_hint_token,
        }
        for name, value in hints.items():
            if len(value) > hint_limits[name]:
                return _error(Errors.INVALID_REQUEST, f"{name} is too long")
        expiry = self.requested_expiry(values.get("requested_expiry"), client)
        if isinstance(expiry, BackchannelAuthenticationRequestError):
            return expiry
        binding_message = values.get("binding_message")
        if binding_message is not None and (
            len(binding_message) > limits.binding_message
            or not binding_message.strip()
            or any(not ch.isprintable() for ch in binding_message)
        ):
            return _error(
                Errors.INVALID_BINDING_MESSAGE,
                f"binding_message must be printable text of at most {limits.binding_message} characters",
            )
        user_code = values.get("user_code")
        if user_code is not None and len(user_code) > limits.user_code:
            return _error(Errors.INVALID_REQUEST, "user_code is too long")
        if not user_code and client.backchannel_user_code_parameter:
            return _error(Errors.MISSING_USER_CODE, "this client must send the user's user_code")
        notification_token = values.get("client_notification_token")
        if client.backchannel_token_delivery_mode == PING_MODE:
            if not notification_token:
                return _error(Errors.INVALID_REQUEST, "client_notification_token is required in ping mode")
            if len(notification_token) > MAX_NOTIFICATION_TOKEN:
                return _error(Errors.INVALID_REQUEST, "client_notification_token is too long")
            if not BEARER_TOKEN.fullmatch(notification_token):
                # it goes back as "Authorization: Bearer <token>" (CIBA Core §10.2), so it must be a b64token
                return _error(Errors.INVALID_REQUEST, "client_notification_token must be a bearer token (RFC 6750)")
        else:
            notification_token = None
        subject = await self.validate_user(client, hints, issuer, user_code or None, binding_message)
        if isinstance(subject, BackchannelAuthenticationRequestError):
            return subject
        return ValidatedBackchannelAuthenticationRequest(
            client=client,
            subject=subject,
            requested_scopes=scopes,
            validated_resources=resources,
            expiry=expiry,
            interval=client.polling_interval or self.options.ciba.default_polling_interval,
            resource_indicators=indicators,
            acr_values=acr_values,
            tenant=tenant,
            idp=idp,
            binding_message=binding_message,
            user_code=user_code or None,
            client_notification_token=notification_token,
        )

    def requested_expiry(self, raw: str | None, client: Client) -> int | BackchannelAuthenticationRequestError:
        """CIBA Core §7.1 ``requested_expiry``: a positive integer (a JSON number or string) up to the client's
        lifetime; absent, the client's lifetime."""
        lifetime = client.ciba_lifetime or self.options.ciba.default_lifetime
        if raw is None:
            return lifetime
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or int(raw) <= 0:
            return _error(Errors.INVALID_REQUEST, "requested_expiry must be a positive integer")
        if int(raw) > lifetime:
            return _error(Errors.INVALID_REQUEST, f"requested_expiry must be at most {lifetime}")
        return int(raw)

    async def validate_user(
        self,
        client: Client,
        hints: dict[str, str],
        issuer: str,
        user_code: str | None,
        binding_message: str | None,
    ) -> Principal | BackchannelAuthenticationRequestError:
        """The user the hint names, through the ``BackchannelAuthenticationUserValidator``, or the error."""
        context = BackchannelAuthenticationUserValidatorContext(
            client=client,
            login_hint=hints.get("login_hint"),
            id_token_hint=hints.get("id_token_hint"),
            login_hint_token=hints.get("login_hint_token"),
            user_code=user_code,
            binding_message=binding_message,
        )
        if context.id_token_hint is not None:
            claims = await self.id_token_hints.validate(context.id_token_hint, issuer, client.client_id)
            if claims is None:
                return _error(Errors.INVALID_REQUEST, "id_token_hint is not a valid ID token of this server")
            context.id_token_hint_claims = claims
        result = await self.users.validate_request(context)
        if result.error is not None:
            return _error(result.error, result.error_description or "the user could not be identified")
        if result.subject is None or not result.subject.subject_id:
            return _error(Errors.UNKNOWN_USER_ID, "the hint does not identify a user")
        active = IsActiveContext(result.subject, client, ProfileCallers.BACKCHANNEL_AUTHENTICATION)
        await self.profile.is_active(active)
        if not active.is_active:
            return _error(Errors.UNKNOWN_USER_ID, "the user is not active")
        return result.subject
