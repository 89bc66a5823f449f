"""The ``password`` grant's check against a ``UserStore`` (Duende ``TestUserResourceOwnerPasswordValidator``)."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.models.claims import Claim, Principal
from identityserver.stores.protocols import UserStore
from identityserver.validation.protocols import GrantValidationResult, ResourceOwnerPasswordValidationContext


class TestUserResourceOwnerPasswordValidator:
    def __init__(self, users: UserStore, clock: Clock) -> None:
        self.users = users
        self.clock = clock

    async def validate(self, context: ResourceOwnerPasswordValidationContext) -> None:
        user = await self.users.validate_credentials(context.username, context.password)
        if user is None:
            context.result = GrantValidationResult(
                error="invalid_grant", error_description="invalid_username_or_password"
            )
            return
        now = int(self.clock.timestamp())
        context.result = GrantValidationResult(
            subject=Principal(
                [
                    Claim("sub", user.subject_id),
                    Claim("auth_time", str(now), "integer"),
                    Claim("idp", "local"),
                    Claim("amr", "pwd"),
                ]
            )
        )
