"""SQL ``ClientStore`` (Duende ``EntityFramework.Stores.ClientStore``): one client with its child tables."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from identityserver.models.client import Client
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.configuration import ClientEntity
from identityserver.storage.sqlalchemy.mappers import client_from_entity
from identityserver.storage.sqlalchemy.stores.common import report_unreadable


class SqlClientStore:
    """Reads ``Clients`` and its children. Wrap it in ``CachingClientStore`` for the token endpoint. A row that
    cannot be mapped (an undefined enum value) is logged and treated as an unknown client: fail closed."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def find_client_by_id(self, client_id: str) -> Client | None:
        async with self.database.read() as conn:
            session = AsyncSession(bind=conn, expire_on_commit=False)
            try:
                entity = await session.scalar(select(ClientEntity).where(ClientEntity.ClientId == client_id))
                if entity is None:
                    return None
                try:
                    return client_from_entity(entity)
                except ValueError as exc:  # e.g. an enum column holding a value IdentityServer does not define
                    report_unreadable("client", client_id, str(exc))
                    return None
            finally:
                await session.close()
