"""Extension points of the authorize request validator (Duende ``ICustomAuthorizeRequestValidator``; design.md
§3.1 item 4): custom validators run after every built-in check, in registration order, and the first rejection
ends validation with an error that goes back to the client; ``steps()`` is the ordered list a subclass inserts
into. Built directly over the canonical test data, without a server."""

from __future__ import annotations

from typing import Any

import pytest

from identityserver.models.client import Client
from identityserver.stores.in_memory.clients import InMemoryClientStore
from identityserver.stores.in_memory.resources import InMemoryResourceStore
from identityserver.validation.authorize_request import AuthorizeRequestValidator
from identityserver.validation.authorize_results import (
    AuthorizeRequestValidationError,
    AuthorizeRequestValidationResult,
    ValidatedAuthorizeRequest,
)
from identityserver.validation.identity_token import IdentityTokenValidator
from identityserver.validation.jwt_request import JwtRequestValidator
from identityserver.validation.protocols import CustomAuthorizeRequestValidationContext, CustomAuthorizeRequestValidator
from identityserver.validation.redirect_uri import StrictRedirectUriValidator
from identityserver.validation.resources import DefaultResourceValidator
from identityserver.validation.results import IncompleteRequestError
from tests.support.browser import code_request
from tests.support.clock import FakeClock
from tests.support.quick import canonical_configuration

ISSUER = "https://idp.example"
PUBLIC_CB = "https://app.example/cb"


class NoIdTokenHints(IdentityTokenValidator):
    """No request here sends ``id_token_hint``; the real one needs the key material."""

    def __init__(self) -> None:
        pass

    async def validate(self, token: str, issuer: str, client_id: str | None = None) -> dict[str, Any] | None:
        return None


def make_validator(
    *custom: CustomAuthorizeRequestValidator, cls: type[AuthorizeRequestValidator] = AuthorizeRequestValidator
) -> AuthorizeRequestValidator:
    config = canonical_configuration()
    resources = InMemoryResourceStore(config.identity_resources, config.api_scopes, config.api_resources)
    return cls(
        config.options,
        InMemoryClientStore(config.clients),
        DefaultResourceValidator(resources),
        StrictRedirectUriValidator(),
        JwtRequestValidator(FakeClock()),
        NoIdTokenHints(),
        custom_validators=custom,
    )


def public_request(**extra: str) -> dict[str, str]:
    params, _ = code_request("public", PUBLIC_CB, "openid api1")
    return {**params, "state": "st-1", **extra}


class Recording:
    """A custom validator that records its call and applies ``action`` to the result."""

    def __init__(self, calls: list[str], name: str, **action: Any) -> None:
        self.calls = calls
        self.name = name
        self.action = action

    async def validate(self, context: CustomAuthorizeRequestValidationContext) -> None:
        self.calls.append(self.name)
        result = context.result
        assert result.validated_request.response_type == "code"  # every built-in step ran before
        for name, value in self.action.items():
            if name == "custom_response":
                result.custom_response.update(value)
            else:
                setattr(result, name, value)


async def test_without_custom_validators_a_valid_request_succeeds():
    result = await make_validator().validate(public_request(), ISSUER)
    assert isinstance(result, AuthorizeRequestValidationResult)
    assert result.validated_request.client.client_id == "public"
    assert result.validated_request.validated_redirect_uri() == PUBLIC_CB
    assert result.custom_response == {}


async def test_a_custom_validator_rejects_and_the_error_goes_back_to_the_client():
    calls: list[str] = []
    rejecting = Recording(calls, "reject", is_error=True, error="invalid_request", error_description="no tenant")
    result = await make_validator(rejecting).validate(public_request(), ISSUER)
    assert isinstance(result, AuthorizeRequestValidationError)
    assert (result.error, result.error_description) == ("invalid_request", "no tenant")
    assert result.redirectable
    assert result.validated_request is not None
    assert result.validated_request.state == "st-1"
    assert calls == ["reject"]


async def test_setting_only_error_rejects_too():
    result = await make_validator(Recording([], "reject", error="access_denied")).validate(public_request(), ISSUER)
    assert isinstance(result, AuthorizeRequestValidationError)
    assert result.error == "access_denied"


async def test_is_error_without_an_error_code_is_invalid_request():
    result = await make_validator(Recording([], "reject", is_error=True)).validate(public_request(), ISSUER)
    assert isinstance(result, AuthorizeRequestValidationError)
    assert result.error == "invalid_request"


async def test_custom_validators_run_in_registration_order_and_stop_at_the_first_error():
    calls: list[str] = []
    validator = make_validator(
        Recording(calls, "first", custom_response={"a": "1"}),
        Recording(calls, "second", is_error=True, error="invalid_request"),
        Recording(calls, "third"),
    )
    result = await validator.validate(public_request(), ISSUER)
    assert isinstance(result, AuthorizeRequestValidationError)
    assert calls == ["first", "second"]


async def test_custom_validators_add_response_parameters():
    calls: list[str] = []
    validator = make_validator(
        Recording(calls, "first", custom_response={"tenant": "acme"}),
        Recording(calls, "second", custom_response={"region": "eu"}),
    )
    result = await validator.validate(public_request(), ISSUER)
    assert isinstance(result, AuthorizeRequestValidationResult)
    assert result.custom_response == {"tenant": "acme", "region": "eu"}
    assert calls == ["first", "second"]


async def test_custom_validators_do_not_run_for_requests_the_built_in_checks_refuse():
    calls: list[str] = []
    result = await make_validator(Recording(calls, "never")).validate(public_request(scope="unknown"), ISSUER)
    assert isinstance(result, AuthorizeRequestValidationError)
    assert result.error == "invalid_scope"
    assert calls == []


# -- steps() ----------------------------------------------------------------------------------------------------


def test_steps_are_the_documented_order():
    names = [step.__name__ for step in make_validator().steps()]
    assert names == [
        "load_request_object",
        "validate_redirect_uri",
        "validate_state",
        "reject_repeated_parameters",
        "validate_response_type",
        "validate_scope_and_resources",
        "validate_nonce",
        "validate_pkce",
        "validate_optional_parameters",
        "validate_id_token_hint",
        "validate_claims_parameter",
        "enforce_security_profile",
    ]


class TenantValidator(AuthorizeRequestValidator):
    """Inserts a step right after ``validate_state`` (the position the ``steps()`` docstring recommends)."""

    seen: list[tuple[Client, str | None, str | None, str | None]]
    """(client, redirect_uri, state, response_type) as each call of the step saw them."""

    def steps(self):
        self.seen = []
        steps = super().steps()
        return [*steps[:3], self.check_tenant, *steps[3:]]

    async def check_tenant(self, request: ValidatedAuthorizeRequest) -> AuthorizeRequestValidationError | None:
        self.seen.append((request.client, request.redirect_uri, request.state, request.response_type))
        if request.raw.get("tenant") != "acme":
            return self.fail(request, "invalid_request", "unknown tenant")
        return None


async def test_an_inserted_step_sees_the_client_redirect_uri_and_state_already_validated():
    validator = make_validator(cls=TenantValidator)
    assert isinstance(validator, TenantValidator)
    result = await validator.validate(public_request(tenant="acme"), ISSUER)
    assert isinstance(result, AuthorizeRequestValidationResult)
    [(client, redirect_uri, state, response_type)] = validator.seen
    assert client.client_id == "public"
    assert (redirect_uri, state) == (PUBLIC_CB, "st-1")
    assert response_type is None  # the steps after it had not run yet


async def test_an_inserted_step_error_stops_the_later_steps_and_goes_back_to_the_client():
    validator = make_validator(cls=TenantValidator)
    # response_type and scope are invalid too: the error is the inserted step's, so the later steps never ran
    result = await validator.validate(public_request(response_type="bogus", scope="unknown"), ISSUER)
    assert isinstance(result, AuthorizeRequestValidationError)
    assert (result.error, result.error_description) == ("invalid_request", "unknown tenant")
    assert result.redirectable
    assert result.validated_request is not None
    assert result.validated_request.state == "st-1"
    assert result.validated_request.response_type is None


async def test_an_inserted_step_does_not_run_when_an_earlier_step_fails():
    validator = make_validator(cls=TenantValidator)
    result = await validator.validate(public_request(redirect_uri="https://evil.example/cb"), ISSUER)
    assert isinstance(result, AuthorizeRequestValidationError)
    assert not result.redirectable  # the redirect URI was never trusted
    assert isinstance(validator, TenantValidator) and validator.seen == []


# -- error results ----------------------------------------------------------------------------------------------


async def test_an_unknown_client_is_an_error_without_a_validated_request():
    result = await make_validator().validate({**public_request(), "client_id": "nobody", "ui_locales": "de"}, ISSUER)
    assert isinstance(result, AuthorizeRequestValidationError)
    assert result.error == "unauthorized_client"
    assert result.validated_request is None and not result.redirectable
    assert result.raw["ui_locales"] == "de"


async def test_a_repeated_parameter_is_refused_after_state_is_read():
    result = await make_validator().validate(public_request(), ISSUER, repeated=["scope"])
    assert isinstance(result, AuthorizeRequestValidationError)
    assert result.error_description == "parameter 'scope' was sent twice"
    assert result.redirectable
    assert result.validated_request is not None and result.validated_request.state == "st-1"


async def test_stages_after_validation_raise_on_a_request_without_a_subject_or_redirect_uri():
    client = Client(client_id="c")
    request = ValidatedAuthorizeRequest(raw={}, issuer=ISSUER, client=client)
    with pytest.raises(IncompleteRequestError):
        request.authenticated_subject()
    with pytest.raises(IncompleteRequestError):
        request.validated_redirect_uri()
