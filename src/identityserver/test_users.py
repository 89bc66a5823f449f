"""Test users from the configuration file (Duende ``TestUser``, ``TestUserStore``, ``TestUserProfileService``,
``TestUserResourceOwnerPasswordValidator``). Passwords are kept as argon2id hashes only."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from identityserver.clock import Clock
from identityserver.models.claims import Claim, Principal
from identityserver.models.contexts import IsActiveContext, ProfileDataRequestContext
from identityserver.models.users import TestUser
from identityserver.stores.protocols import UserStore
from identityserver.validation.protocols import GrantValidationResult, ResourceOwnerPasswordValidationContext

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Hashed on first use, not at import: one argon2 hash takes ~0.2-0.4 s and a 64 MiB buffer."""
    return _hasher.hash("identityserver-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class TestUserStore:
    """Users by subject and username: the ``UserStore`` implementation for the test users of the config file."""

    def __init__(self, users: Iterable[TestUser]) -> None:
        self._by_subject: dict[str, TestUser] = {}
        self._by_username: dict[str, TestUser] = {}
        for user in users:
            if user.subject_id in self._by_subject:
                raise ValueError(f"duplicate user subject_id {user.subject_id!r}")
            if user.username.lower() in self._by_username:
                raise ValueError(f"duplicate username {user.username!r}")
            self._by_subject[user.subject_id] = user
            self._by_username[user.username.lower()] = user

    async def validate_credentials(self, username: str, password: str) -> TestUser | None:
        """The user when the password matches; the same amount of work when the user does not exist."""
        user = await self.find_by_username(username)
        if user is None:
            verify_password(_dummy_hash(), password)
            return None
        if not verify_password(user.password_hash, password) or not user.is_active:
            return None
        return user

    async def find_by_subject_id(self, subject_id: str) -> TestUser | None:
        return self._by_subject.get(subject_id)

    async def find_by_username(self, username: str) -> TestUser | None:
        return self._by_username.get(username.lower())

    async def auto_provision_user(self, username: str, password: str, claims: list[Claim]) -> TestUser:
        """Create a user (the create-account page of ``prompt=create``)."""
        if username.lower() in self._by_username:
            raise ValueError("username is taken")
        subject_id = _next_subject_id(self._by_subject)
        user = TestUser(subject_id, username, hash_password(password), list(claims))
        self._by_subject[subject_id] = user
        self._by_username[username.lower()] = user
        return user

    def all(self) -> list[TestUser]:
        return list(self._by_subject.values())


def _next_subject_id(existing: dict[str, TestUser]) -> str:
    import secrets

    while True:
        candidate = secrets.token_hex(8)
        if candidate not in existing:
            return candidate


class TestUserProfileService:
    def __init__(self, users: UserStore) -> None:
        self.users = users

    async def get_profile_data(self, context: ProfileDataRequestContext) -> None:
        user = await self.users.find_by_subject_id(context.subject.subject_id)
        if user is not None:
            context.add_requested_claims(user.claims)

    async def is_active(self, context: IsActiveContext) -> None:
        user = await self.users.find_by_subject_id(context.subject.subject_id)
        context.is_active = user is not None and user.is_active


class DefaultProfileService:
    """Issues the requested claims that are present on the subject itself (Duende ``DefaultProfileService``)."""

    async def get_profile_data(self, context: ProfileDataRequestContext) -> None:
        context.add_requested_claims(context.subject.claims)

    async def is_active(self, context: IsActiveContext) -> None:
        context.is_active = True


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


__all__ = [
    "DefaultProfileService",
    "TestUser",
    "TestUserProfileService",
    "TestUserResourceOwnerPasswordValidator",
    "TestUserStore",
    "hash_password",
    "verify_password",
]
