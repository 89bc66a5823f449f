"""Custom token request validators (Duende ``ICustomTokenRequestValidator``): they run after the grant validated,
in registration order; the first rejection ends validation with a ``TokenRequestValidationError``, and
``custom_response`` entries travel with the result. Built directly, with a stub grant, without a server."""

from __future__ import annotations

from typing import Any

import pytest

from identityserver.http.parameters import Parameters
from identityserver.http.request import EndpointRequest
from identityserver.models.client import Client
from identityserver.stores.in_memory.resources import InMemoryResourceStore
from identityserver.validation.protocols import CustomTokenRequestValidationContext, CustomTokenRequestValidator
from identityserver.validation.resources import DefaultResourceValidator
from identityserver.validation.results import (
    ClientSecretValidationResult,
    TokenRequestValidationError,
    TokenRequestValidationResult,
    error,
)
from identityserver.validation.token_request.validator import GrantValidationContext, TokenRequestValidator
from tests.support.clock import FakeClock
from tests.support.quick import canonical_configuration

ISSUER = "https://idp.example"
CLIENT = Client(client_id="m2m", allowed_grant_types=["urn:test"], allowed_scopes=["api1"])


class StubGrant:
    """Accepts every request (or refuses all with ``invalid_grant``) and hands out a DPoP nonce."""

    grant_type = "urn:test"

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse

    async def validate(
        self, context: GrantValidationContext
    ) -> TokenRequestValidationResult | TokenRequestValidationError:
        if self.refuse:
            return error("invalid_grant", "refused by the grant")
        context.request.dpop_nonce = "nonce-1"
        return TokenRequestValidationResult(context.request, custom_response={"from_grant": "yes"})


class Recording:
    def __init__(self, calls: list[str], name: str, **action: Any) -> None:
        self.calls = calls
        self.name = name
        self.action = action

    async def validate(self, context: CustomTokenRequestValidationContext) -> None:
        self.calls.append(self.name)
        result = context.result
        assert result.validated_request.client.client_id == "m2m"
        for name, value in self.action.items():
            if name == "custom_response":
                result.custom_response.update(value)
            else:
                setattr(result, name, value)


def make_validator(*custom: CustomTokenRequestValidator, refuse: bool = False) -> TokenRequestValidator:
    config = canonical_configuration()
    resources = DefaultResourceValidator(InMemoryResourceStore(config.identity_resources, config.api_scopes))
    return TokenRequestValidator(
        {"urn:test": StubGrant(refuse)}, config.options, resources, FakeClock(), custom_validators=custom
    )


async def validate(validator: TokenRequestValidator) -> TokenRequestValidationResult | TokenRequestValidationError:
    http = EndpointRequest("POST", "/connect/token", ISSUER, ISSUER)
    return await validator.validate_request(
        http, Parameters({"grant_type": "urn:test"}), ClientSecretValidationResult(client=CLIENT)
    )


async def test_without_custom_validators_the_grant_result_is_returned():
    result = await validate(make_validator())
    assert isinstance(result, TokenRequestValidationResult)
    assert result.validated_request.grant_type == "urn:test"
    assert result.custom_response == {"from_grant": "yes"}


async def test_a_custom_validator_rejects_with_its_error_and_description():
    calls: list[str] = []
    rejecting = Recording(
        calls, "reject", is_error=True, error="invalid_request", error_description="audience is required"
    )
    result = await validate(make_validator(rejecting))
    assert isinstance(result, TokenRequestValidationError)
    assert (result.error, result.error_description) == ("invalid_request", "audience is required")
    assert result.dpop_nonce == "nonce-1"  # RFC 9449 §8: the nonce still reaches the client
    assert calls == ["reject"]


async def test_setting_only_error_rejects_too():
    result = await validate(make_validator(Recording([], "reject", error="invalid_scope")))
    assert isinstance(result, TokenRequestValidationError)
    assert result.error == "invalid_scope"


async def test_is_error_without_an_error_code_is_invalid_request():
    result = await validate(make_validator(Recording([], "reject", is_error=True)))
    assert isinstance(result, TokenRequestValidationError)
    assert result.error == "invalid_request"


async def test_custom_validators_run_in_registration_order_and_stop_at_the_first_error():
    calls: list[str] = []
    validator = make_validator(
        Recording(calls, "first", custom_response={"a": 1}),
        Recording(calls, "second", is_error=True, error="invalid_request"),
        Recording(calls, "third"),
    )
    result = await validate(validator)
    assert isinstance(result, TokenRequestValidationError)
    assert result.custom_response == {"from_grant": "yes", "a": 1}
    assert calls == ["first", "second"]


async def test_custom_validators_add_response_members():
    calls: list[str] = []
    validator = make_validator(
        Recording(calls, "first", custom_response={"tenant": "acme"}),
        Recording(calls, "second", custom_response={"region": "eu"}),
    )
    result = await validate(validator)
    assert isinstance(result, TokenRequestValidationResult)
    assert result.custom_response == {"from_grant": "yes", "tenant": "acme", "region": "eu"}
    assert calls == ["first", "second"]


async def test_custom_validators_do_not_run_when_the_grant_refuses():
    calls: list[str] = []
    result = await validate(make_validator(Recording(calls, "never"), refuse=True))
    assert isinstance(result, TokenRequestValidationError)
    assert result.error == "invalid_grant"
    assert calls == []


async def test_validating_for_an_unauthenticated_client_is_a_bug():
    http = EndpointRequest("POST", "/connect/token", ISSUER, ISSUER)
    failed = ClientSecretValidationResult(error="invalid_client")
    with pytest.raises(ValueError, match="authenticated client"):
        await make_validator().validate_request(http, Parameters({"grant_type": "urn:test"}), failed)
