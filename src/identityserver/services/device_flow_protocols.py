"""The device flow's service Protocols (Duende ``IUserCodeService``, ``IDeviceFlowCodeService``,
``IDeviceFlowThrottlingService``, ``IDeviceFlowInteractionService``) and what the verification page exchanges
with the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from identityserver.models.claims import Principal
from identityserver.models.client import Client
from identityserver.models.grants import DeviceCode
from identityserver.models.resources import ResourceValidationResult
from identityserver.services.user_codes import UserCodeGenerator


class UserCodeService(Protocol):
    """Finds the user code generator of a type (Duende ``IUserCodeService``; RFC 8628 §6.1)."""

    def get_generator(self, user_code_type: str | None) -> UserCodeGenerator:
        """The generator of the type (``None``: the default type of ``[options.device_flow]``)."""
        ...


class DeviceFlowCodeService(Protocol):
    """Device authorizations by raw device code and typed user code (the store sees hashes and normalized codes)."""

    async def store_device_authorization(self, user_code: str, data: DeviceCode) -> str:
        """Store the authorization under ``user_code``; return the new device code (``ValueError`` when the user
        code is taken)."""

    async def find_by_user_code(self, user_code: str) -> DeviceCode | None:
        """The authorization of a user code as typed, or ``None``."""

    async def find_by_device_code(self, device_code: str) -> DeviceCode | None:
        """The authorization of a raw device code, or ``None``."""

    async def update_by_user_code(self, user_code: str, data: DeviceCode) -> None:
        """Replace the authorization (the user's decision, RFC 8628 §3.3)."""

    async def remove_by_device_code(self, device_code: str) -> None:
        """Remove the authorization of a raw device code."""

    async def take_by_device_code(self, device_code: str) -> DeviceCode | None:
        """Atomically remove and return the authorization: of concurrent callers exactly one gets it."""


class DeviceFlowThrottlingService(Protocol):
    """Slows down devices that poll too often (Duende ``IDeviceFlowThrottlingService``)."""

    async def should_slow_down(self, device_code: str, details: DeviceCode) -> bool:
        """Record a poll; ``True`` when it came before the device code's interval had passed (RFC 8628 §3.5)."""
        ...


@dataclass(slots=True)
class DeviceFlowAuthorizationRequest:
    """A pending device authorization as the verification page shows it (Duende ``DeviceFlowAuthorizationRequest``)."""

    user_code: str
    client: Client
    validated_resources: ResourceValidationResult
    requested_scopes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class DeviceFlowInteractionResult:
    """The outcome of the user's decision (Duende ``DeviceFlowInteractionResult``)."""

    is_error: bool = False
    error_description: str | None = None
    is_access_denied: bool = False


class DeviceFlowInteractionService(Protocol):
    """What the verification page calls into (Duende ``IDeviceFlowInteractionService``)."""

    async def get_authorization_context(self, user_code: str) -> DeviceFlowAuthorizationRequest | None:
        """The pending request of a typed code, or ``None`` (unknown, expired, already decided, client gone)."""
        ...

    async def handle_request(
        self, user_code: str, scopes: list[str] | None, subject: Principal, session_id: str | None
    ) -> DeviceFlowInteractionResult:
        """Approve with the scopes the user chose, or deny (``scopes is None``); the device's next poll gets
        tokens or ``access_denied``."""
        ...


class UserCodeThrottle(Protocol):
    """Limits wrong user codes per client address and per signed-in session (RFC 8628 §5.1)."""

    async def blocked(self, address: str, session_id: str) -> bool:
        """Whether this address or session has had too many wrong user codes for now."""

    async def failed(self, address: str, session_id: str) -> None:
        """Record a wrong user code for the address and the session."""
