"""Profile services (Duende ``IProfileService``): the claims issued for a subject, and whether it is active."""

from __future__ import annotations

from identityserver.models.contexts import IsActiveContext, ProfileDataRequestContext
from identityserver.stores.protocols import UserStore


class DefaultProfileService:
    """Issues the requested claims that are present on the subject itself (Duende ``DefaultProfileService``)."""

    async def get_profile_data(self, context: ProfileDataRequestContext) -> None:
        """Issue the requested claims the subject carries."""
        context.add_requested_claims(context.subject.claims)

    async def is_active(self, context: IsActiveContext) -> None:
        """Every subject is active."""
        context.is_active = True


class TestUserProfileService:
    """The requested claims of the user in a ``UserStore`` (Duende ``TestUserProfileService``)."""

    def __init__(self, users: UserStore) -> None:
        self.users = users

    async def get_profile_data(self, context: ProfileDataRequestContext) -> None:
        """Issue the requested claims of the user in the store."""
        user = await self.users.find_by_subject_id(context.subject.subject_id)
        if user is not None:
            context.add_requested_claims(user.claims)

    async def is_active(self, context: IsActiveContext) -> None:
        """Active while the user exists and is not disabled."""
        user = await self.users.find_by_subject_id(context.subject.subject_id)
        context.is_active = user is not None and user.is_active
