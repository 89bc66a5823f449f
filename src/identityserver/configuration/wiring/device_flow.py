"""Default device flow (RFC 8628): its store, codes, polling throttle, verification-page service, the
device authorization endpoint and the ``device_code`` grant."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.configuration.wiring.composition import Composition, default
from identityserver.endpoints.base import EndpointHandler
from identityserver.endpoints.device_authorization import DeviceAuthorizationEndpoint
from identityserver.models.client import Client
from identityserver.models.resources import ResourceValidationResult
from identityserver.response_handling.device_authorization import DeviceAuthorizationResponseGenerator
from identityserver.services.device_flow import DefaultDeviceFlowCodeService, DefaultDeviceFlowThrottlingService
from identityserver.services.device_flow_interaction import DefaultDeviceFlowInteractionService, DefaultUserCodeThrottle
from identityserver.services.device_flow_protocols import (
    DeviceFlowCodeService,
    DeviceFlowInteractionService,
    DeviceFlowThrottlingService,
    UserCodeService,
    UserCodeThrottle,
)
from identityserver.services.protocols import EventService, ProfileService
from identityserver.services.user_codes import DefaultUserCodeService
from identityserver.stores.in_memory.device_flow import InMemoryDeviceFlowStore
from identityserver.stores.protocols import ClientStore, DeviceFlowStore, PersistedGrantStore
from identityserver.validation.client_secrets.client_secret_validator import ClientSecretValidator
from identityserver.validation.device_authorization import DeviceAuthorizationRequestValidator
from identityserver.validation.resources import DefaultResourceValidator, ResourceValidationError
from identityserver.validation.token_request.device_code import DeviceCodeGrantValidator


@default(DeviceFlowStore)
def device_flow_store(c: Composition) -> DeviceFlowStore:
    return c.get(InMemoryDeviceFlowStore)


@default(InMemoryDeviceFlowStore)
def in_memory_device_flow_store(c: Composition) -> InMemoryDeviceFlowStore:
    return InMemoryDeviceFlowStore()


@default(UserCodeService)
def user_codes(c: Composition) -> UserCodeService:
    return c.cls(UserCodeService, DefaultUserCodeService)(c.options.device_flow.default_user_code_type)


@default(DeviceFlowCodeService)
def device_codes(c: Composition) -> DeviceFlowCodeService:
    return c.cls(DeviceFlowCodeService, DefaultDeviceFlowCodeService)(c.get(DeviceFlowStore))


@default(DeviceFlowThrottlingService)
def device_throttling(c: Composition) -> DeviceFlowThrottlingService:
    return c.cls(DeviceFlowThrottlingService, DefaultDeviceFlowThrottlingService)(
        c.get(PersistedGrantStore), c.get(Clock), c.options.device_flow.interval
    )


@default(DeviceFlowInteractionService)
def device_interaction(c: Composition) -> DeviceFlowInteractionService:
    resources = c.get(DefaultResourceValidator)

    async def validate_scopes(client: Client, scopes: list[str]) -> ResourceValidationResult | None:
        result = await resources.validate_requested_resources(client, scopes)
        return None if isinstance(result, ResourceValidationError) else result

    return c.cls(DeviceFlowInteractionService, DefaultDeviceFlowInteractionService)(
        c.get(DeviceFlowCodeService), c.get(ClientStore), validate_scopes, c.get(Clock)
    )


@default(UserCodeThrottle)
def user_code_throttle(c: Composition) -> UserCodeThrottle:
    settings = c.options.device_flow
    return c.cls(UserCodeThrottle, DefaultUserCodeThrottle)(
        c.get(PersistedGrantStore),
        c.get(Clock),
        settings.user_code_failures_per_address,
        settings.user_code_failures_per_session,
        settings.user_code_failure_window,
    )


@default(DeviceCodeGrantValidator)
def device_code_grant(c: Composition) -> DeviceCodeGrantValidator:
    return c.cls(DeviceCodeGrantValidator, DeviceCodeGrantValidator)(
        c.get(DeviceFlowCodeService), c.get(DeviceFlowThrottlingService), c.get(ProfileService)
    )


@default(DeviceAuthorizationRequestValidator)
def device_authorization_validator(c: Composition) -> DeviceAuthorizationRequestValidator:
    return c.cls(DeviceAuthorizationRequestValidator, DeviceAuthorizationRequestValidator)(
        c.get(DefaultResourceValidator), c.options.input_length_restrictions
    )


@default(DeviceAuthorizationResponseGenerator)
def device_authorization_generator(c: Composition) -> DeviceAuthorizationResponseGenerator:
    return c.cls(DeviceAuthorizationResponseGenerator, DeviceAuthorizationResponseGenerator)(
        c.get(DeviceFlowCodeService), c.get(UserCodeService), c.options, c.get(Clock)
    )


def device_authorization_endpoint(c: Composition) -> EndpointHandler:
    """``/connect/deviceauthorization`` (RFC 8628 §3.1)."""
    return c.cls(DeviceAuthorizationEndpoint, DeviceAuthorizationEndpoint)(
        c.get(ClientSecretValidator),
        c.get(DeviceAuthorizationRequestValidator),
        c.get(DeviceAuthorizationResponseGenerator),
        c.get(EventService),
    )
