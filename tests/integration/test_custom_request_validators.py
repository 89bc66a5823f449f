"""Custom request validators and an inserted authorize step, through the whole app (Duende
``ICustomTokenRequestValidator``, ``ICustomAuthorizeRequestValidator``; RFC 6749 §4.1.2.1, §5.1, §5.2), and the
refresh token that a concurrent request rotated first, answered as ``invalid_grant`` (a value, not an exception)."""

from __future__ import annotations

from identityserver.services.refresh_tokens import DefaultRefreshTokenService
from identityserver.validation.authorize_request import AuthorizeRequestValidator
from identityserver.validation.authorize_results import AuthorizeRequestValidationError, ValidatedAuthorizeRequest
from identityserver.validation.protocols import (
    CustomAuthorizeRequestValidationContext,
    CustomTokenRequestValidationContext,
)
from tests.support.browser import authorize_path, code_request, obtain_code, redirect_parameters, refresh, tokens_for
from tests.support.quick import quick_builder
from tests.support.server import basic, running

PUBLIC_CB = "https://app.example/cb"


# -- token endpoint -----------------------------------------------------------------------------------------------


class RequireAudience:
    """Rejects a request without ``audience``; otherwise echoes it in the response (and tries to replace
    ``access_token``, which must not work)."""

    async def validate(self, context: CustomTokenRequestValidationContext) -> None:
        result = context.result
        audience = result.validated_request.raw.get("audience")
        if audience is None:
            result.is_error = True
            result.error = "invalid_request"
            result.error_description = "audience is required"
            return
        result.custom_response["audience"] = audience
        result.custom_response["access_token"] = "forged"


async def test_a_custom_token_validator_rejects_with_a_400_and_its_description():
    builder = (await quick_builder()).add_custom_token_request_validator(RequireAudience())
    async with running(builder) as server:
        response = await server.token(
            {"grant_type": "client_credentials", "scope": "api1"}, headers=basic("m2m", "secret")
        )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": "audience is required"}
    assert response.headers["cache-control"] == "no-store"


async def test_a_custom_token_validator_adds_a_member_to_the_token_response():
    builder = (await quick_builder()).add_custom_token_request_validator(RequireAudience())
    async with running(builder) as server:
        response = await server.token(
            {"grant_type": "client_credentials", "scope": "api1", "audience": "billing"}, headers=basic("m2m", "secret")
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["audience"] == "billing"
    assert body["access_token"] != "forged"  # custom members never replace standard ones
    assert body["token_type"] == "Bearer"


async def test_the_refresh_token_rotated_by_a_concurrent_request_is_invalid_grant(monkeypatch):
    async with running(await quick_builder()) as server:
        token = (await tokens_for(server.client))["refresh_token"]

        async def lost_the_race(*_: object) -> None:
            return None  # what rotate answers when another request claimed the one-time token first

        monkeypatch.setattr(DefaultRefreshTokenService, "rotate", lost_the_race)
        response = await refresh(server.client, "web", token)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "refresh token was already used"}


# -- authorize endpoint -------------------------------------------------------------------------------------------


class RequireTenant:
    """Rejects a request without ``tenant``; otherwise returns it to the client (and tries to replace ``code``
    and ``state``, which must not work)."""

    async def validate(self, context: CustomAuthorizeRequestValidationContext) -> None:
        result = context.result
        tenant = result.validated_request.raw.get("tenant")
        if tenant is None:
            result.is_error = True
            result.error = "access_denied"
            result.error_description = "tenant is required"
            return
        result.custom_response.update({"tenant": tenant, "code": "forged", "state": "forged"})


async def test_a_custom_authorize_validator_rejection_is_redirected_to_the_client():
    builder = (await quick_builder()).add_custom_authorize_request_validator(RequireTenant())
    async with running(builder) as server:
        params, _ = code_request("public", PUBLIC_CB, "openid api1")
        response = await server.client.get(authorize_path(params))
    assert response.status_code == 302
    assert response.headers["location"].startswith(PUBLIC_CB + "?")
    returned = redirect_parameters(response)
    assert returned["error"] == "access_denied"
    assert returned["error_description"] == "tenant is required"
    assert returned["state"] == params["state"]
    assert returned["iss"] == server.issuer
    assert "code" not in returned


async def test_a_custom_authorize_validator_adds_a_parameter_to_the_authorization_response():
    builder = (await quick_builder()).add_custom_authorize_request_validator(RequireTenant())
    async with running(builder) as server:
        grant = await obtain_code(server.client, "public", PUBLIC_CB, "openid api1", tenant="acme")
    assert grant.response["tenant"] == "acme"
    assert grant.response["code"] != "forged"  # custom parameters never replace standard ones
    assert grant.response["state"] == grant.request["state"]


class TenantStepValidator(AuthorizeRequestValidator):
    """Inserts a step after ``validate_state`` that accepts only ``tenant=acme``."""

    def steps(self):
        steps = super().steps()
        return [*steps[:3], self.check_tenant, *steps[3:]]

    async def check_tenant(self, request: ValidatedAuthorizeRequest) -> AuthorizeRequestValidationError | None:
        if request.client.client_id == "public" and request.raw.get("tenant") != "acme":
            return self.fail(request, "invalid_request", "unknown tenant")
        return None


async def test_an_inserted_authorize_step_error_is_redirected_with_state_and_stops_later_steps():
    builder = (await quick_builder()).override(AuthorizeRequestValidator, TenantStepValidator)
    async with running(builder) as server:
        params, _ = code_request("public", PUBLIC_CB, "openid api1", tenant="other", response_type="bogus")
        response = await server.client.get(authorize_path(params))
    assert response.status_code == 302
    returned = redirect_parameters(response)
    # response_type is invalid too, but the inserted step runs first and ends validation
    assert (returned["error"], returned["error_description"]) == ("invalid_request", "unknown tenant")
    assert returned["state"] == params["state"]


async def test_an_inserted_authorize_step_lets_a_valid_request_through():
    builder = (await quick_builder()).override(AuthorizeRequestValidator, TenantStepValidator)
    async with running(builder) as server:
        grant = await obtain_code(server.client, "public", PUBLIC_CB, "openid api1", tenant="acme")
    assert grant.code


async def test_without_custom_validators_unknown_parameters_are_not_echoed():
    async with running(await quick_builder()) as server:
        grant = await obtain_code(server.client, "public", PUBLIC_CB, "openid api1", tenant="acme")
    assert "tenant" not in grant.response
