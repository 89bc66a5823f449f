"""The ``password`` grant's check against a ``UserStore`` (Duende ``TestUserResourceOwnerPasswordValidator``)."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.models.claims import Claim, Principal
from identityserver.stores.protocols import TotpStore, UserStore
from identityserver.validation.protocols import GrantValidationResult, ResourceOwnerPasswordValidationContext


class TestUserResourceOwnerPasswordValidator:
    """Checks the password grant's credentials against the ``UserStore`` (Duende
    ``TestUserResourceOwnerPasswordValidator``); register your own ``ResourceOwnerPasswordValidator`` for another user
    source."""

    def __init__(self, users: UserStore, clock: Clock, totp: TotpStore | None = None) -> None:
        self.users = users
        self.clock = clock
        self.totp = totp

    async def validate(self, context: ResourceOwnerPasswordValidationContext) -> None:
        """Set ``context.result`` to the user's subject (``sub``, ``auth_time``, ``idp``, ``amr``), or to
        ``invalid_grant`` (RFC 6749 §5.2)."""
        user = await self.users.validate_credentials(context.username, context.password)
        if user is None:
            context.result = GrantValidationResult(
                error="invalid_grant", error_description="invalid_username_or_password"
            )
            return
        enrolment = await self.totp.get(user.subject_id) if self.totp is not None else None
        if context.request.client.require_mfa or (enrolment is not None and enrolment.enabled):
            # a password alone must not yield tokens for a user (or client) whose sign-in needs a second factor
            context.result = GrantValidationResult(
                error="invalid_grant", error_description="this sign-in needs a second factor; use the browser"
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
