"""Changes the admin command line makes to configuration data (``identityserver clients ...``, ``users ...``):
each one transaction, so that a refused change (an unknown id, a client that fails validation) writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import delete, or_, select, update

from identityserver.models.client import Client
from identityserver.models.users import TestUser
from identityserver.storage.sqlalchemy.aggregates import delete_entity, load, replace
from identityserver.storage.sqlalchemy.async_bridge import AsyncConnection
from identityserver.storage.sqlalchemy.configuration_mappers import client_from_rows, client_to_rows
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.configuration import CLIENT, clients
from identityserver.storage.sqlalchemy.entities.operational import users
from identityserver.storage.sqlalchemy.mappers import user_to_row

T = TypeVar("T")


class NotFoundError(LookupError):
    """The named client or user does not exist."""


class AlreadyExistsError(ValueError):
    """A client or user with that id (or username) exists already."""


async def _load_client(conn: AsyncConnection, client_id: str) -> Client | None:
    found = await load(conn, CLIENT, clients.c.ClientId == client_id)
    return client_from_rows(found[0]) if found else None


async def add_clients(database: Database, added: Iterable[Client], now: datetime, overwrite: bool = False) -> None:
    """Insert the clients (replacing same-id clients only when ``overwrite``); all or nothing."""
    async with database.write() as conn:
        for client in added:
            if not overwrite and await _load_client(conn, client.client_id) is not None:
                raise AlreadyExistsError(f"client {client.client_id!r} already exists")
            await replace(conn, CLIENT, client_to_rows(client, now), now)


async def change_client(database: Database, client_id: str, change: Callable[[Client], T], now: datetime) -> T:
    """Read the client, let ``change`` modify it in place (raising refuses the change), and write it back."""
    async with database.write() as conn:
        client = await _load_client(conn, client_id)
        if client is None:
            raise NotFoundError(f"no client {client_id!r}")
        result = change(client)
        await replace(conn, CLIENT, client_to_rows(client, now), now)
    return result


async def remove_client(database: Database, client_id: str) -> None:
    async with database.write() as conn:
        if await delete_entity(conn, CLIENT, client_id) is None:
            raise NotFoundError(f"no client {client_id!r}")


async def add_user(database: Database, user: TestUser) -> None:
    """Insert a user; an existing subject id or (case-insensitive) username refuses it."""
    async with database.write() as conn:
        clash = (
            await conn.execute(
                select(users.c.SubjectId, users.c.Username).where(
                    or_(users.c.SubjectId == user.subject_id, users.c.NormalizedUsername == user.username.lower())
                )
            )
        ).first()
        if clash is not None:
            raise AlreadyExistsError(f"a user {clash.Username!r} (subject {clash.SubjectId!r}) exists already")
        await conn.execute(users.insert().values(**user_to_row(user)))


async def set_user_password(database: Database, username: str, password_hash: str) -> str:
    """Replace the user's password hash; the user's subject id."""
    async with database.write() as conn:
        stmt = (
            update(users)
            .where(users.c.NormalizedUsername == username.lower())
            .values(PasswordHash=password_hash)
            .returning(users.c.SubjectId)
        )
        row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFoundError(f"no user {username!r}")
    return str(row[0])


async def remove_user(database: Database, username: str) -> str:
    """Delete the user; its subject id."""
    async with database.write() as conn:
        stmt = delete(users).where(users.c.NormalizedUsername == username.lower()).returning(users.c.SubjectId)
        row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFoundError(f"no user {username!r}")
    return str(row[0])
