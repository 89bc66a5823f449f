"""Test users from the configuration file (Duende ``TestUserStore``): the in-memory ``UserStore``."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from identityserver.crypto.passwords import hash_password_off_loop, verify_password_off_loop
from identityserver.models.claims import Claim
from identityserver.models.users import TestUser


async def check_credentials(user: TestUser | None, password: str) -> TestUser | None:
    """``user`` when it is active and ``password`` matches; the same work whether or not the user exists."""
    matches = await verify_password_off_loop(user.password_hash if user is not None else None, password)
    return user if matches and user is not None and user.is_active else None


class TestUserStore:
    """Users by subject and username; usernames are case-insensitive, passwords argon2id hashes."""

    __test__ = False  # not a pytest test class, whatever its name

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
        return await check_credentials(await self.find_by_username(username), password)

    async def find_by_subject_id(self, subject_id: str) -> TestUser | None:
        return self._by_subject.get(subject_id)

    async def find_by_username(self, username: str) -> TestUser | None:
        return self._by_username.get(username.lower())

    async def auto_provision_user(self, username: str, password: str, claims: list[Claim]) -> TestUser:
        """Create a user (the create-account page of ``prompt=create``)."""
        if username.lower() in self._by_username:
            raise ValueError("username is taken")
        password_hash = await hash_password_off_loop(password)
        if username.lower() in self._by_username:  # taken while the password was hashed
            raise ValueError("username is taken")
        subject_id = secrets.token_hex(8)
        while subject_id in self._by_subject:
            subject_id = secrets.token_hex(8)
        user = TestUser(subject_id, username, password_hash, list(claims))
        self._by_subject[subject_id] = user
        self._by_username[username.lower()] = user
        return user

    def all(self) -> list[TestUser]:
        return list(self._by_subject.values())
