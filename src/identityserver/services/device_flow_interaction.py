"""The verification page's side of the device flow (Duende ``DefaultDeviceFlowInteractionService``) and the
wrong-code throttle of RFC 8628 §5.1."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta

from identityserver.clock import Clock
from identityserver.constants import GrantType
from identityserver.models.claims import Principal
from identityserver.models.client import Client
from identityserver.models.grants import PersistedGrant, PersistedGrantFilter
from identityserver.models.resources import ResourceValidationResult
from identityserver.services.device_flow_protocols import (
    DeviceFlowAuthorizationRequest,
    DeviceFlowCodeService,
    DeviceFlowInteractionResult,
)
from identityserver.stores.protocols import ClientStore, PersistedGrantStore

#: Validates a client's requested scopes; ``None`` when they are no longer valid.
ScopeValidator = Callable[[Client, list[str]], Awaitable[ResourceValidationResult | None]]

USER_CODE_FAILURE = "device_user_code_failure"


class DefaultDeviceFlowInteractionService:
    def __init__(
        self, codes: DeviceFlowCodeService, clients: ClientStore, validate_scopes: ScopeValidator, clock: Clock
    ) -> None:
        self.codes = codes
        self.clients = clients
        self.validate_scopes = validate_scopes
        self.clock = clock

    async def get_authorization_context(self, user_code: str) -> DeviceFlowAuthorizationRequest | None:
        data = await self.codes.find_by_user_code(user_code)
        if data is None or data.is_authorized or data.creation_time + data.lifetime < self.clock.timestamp():
            return None
        client = await self.clients.find_client_by_id(data.client_id)
        if client is None or not client.enabled or GrantType.DEVICE_CODE not in client.allowed_grant_types:
            return None
        resources = await self.validate_scopes(client, data.requested_scopes)
        if resources is None:
            return None
        return DeviceFlowAuthorizationRequest(user_code, client, resources, list(data.requested_scopes))

    async def handle_request(
        self, user_code: str, scopes: list[str] | None, subject: Principal, session_id: str | None
    ) -> DeviceFlowInteractionResult:
        data = await self.codes.find_by_user_code(user_code)
        if data is None or data.is_authorized or data.creation_time + data.lifetime < self.clock.timestamp():
            return DeviceFlowInteractionResult(is_error=True, error_description="invalid or expired user code")
        data.is_authorized = True
        data.subject = subject
        data.session_id = session_id
        if scopes is None:
            # Duende's encoding of a denial: authorized with no scopes (DeviceCodeValidator answers access_denied)
            data.authorized_scopes = []
        else:
            data.authorized_scopes = [s for s in data.requested_scopes if s in scopes]
            if not data.authorized_scopes:
                return DeviceFlowInteractionResult(is_error=True, error_description="no scope was chosen")
        await self.codes.update_by_user_code(user_code, data)
        return DeviceFlowInteractionResult(is_access_denied=scopes is None)


def _digest(prefix: str, value: str) -> str:
    return prefix + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]


class DefaultUserCodeThrottle:
    """Counts wrong user codes as persisted grants (hashes of the address and session only), so every process
    sees the same counts: at most ``per_address`` per client address and ``per_session`` per signed-in session
    within ``window`` seconds."""

    def __init__(
        self, grants: PersistedGrantStore, clock: Clock, per_address: int, per_session: int, window: int
    ) -> None:
        self.grants = grants
        self.clock = clock
        self.per_address = per_address
        self.per_session = per_session
        self.window = window

    async def _live(self, subject: str) -> int:
        now = self.clock.utc_now()
        rows = await self.grants.get_all(PersistedGrantFilter(subject_id=subject, type=USER_CODE_FAILURE))
        return sum(1 for r in rows if r.expiration is None or r.expiration > now)

    async def blocked(self, address: str, session_id: str) -> bool:
        return (
            await self._live(_digest("addr:", address)) >= self.per_address
            or await self._live(_digest("sid:", session_id)) >= self.per_session
        )

    async def failed(self, address: str, session_id: str) -> None:
        now = self.clock.utc_now()
        for subject in (_digest("addr:", address), _digest("sid:", session_id)):
            await self.grants.store(
                PersistedGrant(
                    key=secrets.token_hex(32).upper(),
                    type=USER_CODE_FAILURE,
                    client_id="device",
                    subject_id=subject,
                    creation_time=now,
                    expiration=now + timedelta(seconds=self.window),
                    data="{}",
                )
            )
