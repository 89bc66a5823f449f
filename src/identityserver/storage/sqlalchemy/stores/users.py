"""Users imported from a configuration file (``identityserver config import``), kept in this server's
``IdentityServerUsers`` table: the SQL counterpart of Duende's ``TestUserStore``."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import delete, or_
from sqlalchemy.exc import IntegrityError

from identityserver.crypto.passwords import hash_password_off_loop
from identityserver.models.claims import Claim
from identityserver.models.users import TestUser
from identityserver.storage.sqlalchemy.async_bridge import AsyncConnection
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.operational import users as t
from identityserver.storage.sqlalchemy.fast_path import point_read
from identityserver.storage.sqlalchemy.mappers import user_from_row, user_to_row
from identityserver.stores.in_memory.users import check_credentials

# every code redemption, refresh and userinfo call looks its user up (is_active, then the claims), every sign-in
# by name: gathered on PostgreSQL (postgres_fast_path.py)
_BY_SUBJECT = point_read(t.c.SubjectId, "subject_id")
_BY_USERNAME = point_read(t.c.NormalizedUsername, "username")


async def save_users(conn: AsyncConnection, users: Iterable[TestUser]) -> int:
    """Insert or replace users by subject id (a username moving to another subject replaces that user)."""
    count = 0
    for user in users:
        await conn.execute(
            delete(t).where(or_(t.c.SubjectId == user.subject_id, t.c.NormalizedUsername == user.username.lower()))
        )
        await conn.execute(t.insert().values(**user_to_row(user)))
        count += 1
    return count


class SqlUserStore:
    """The ``UserStore`` over the database; usernames are case-insensitive, passwords argon2id hashes."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def validate_credentials(self, username: str, password: str) -> TestUser | None:
        return await check_credentials(await self.find_by_username(username), password)

    async def find_by_subject_id(self, subject_id: str) -> TestUser | None:
        row = await self.database.fetch_one(_BY_SUBJECT, {"subject_id": subject_id})
        return user_from_row(row) if row is not None else None

    async def find_by_username(self, username: str) -> TestUser | None:
        row = await self.database.fetch_one(_BY_USERNAME, {"username": username.lower()})
        return user_from_row(row) if row is not None else None

    async def auto_provision_user(self, username: str, password: str, claims: list[Claim]) -> TestUser:
        user = TestUser(secrets.token_hex(8), username, await hash_password_off_loop(password), list(claims))
        try:
            async with self.database.write() as conn:
                await conn.execute(t.insert().values(**user_to_row(user)))
        except IntegrityError as exc:
            raise ValueError("username is taken") from exc
        return user

    async def save_users(self, users: Iterable[TestUser]) -> int:
        async with self.database.write() as conn:
            return await save_users(conn, users)
