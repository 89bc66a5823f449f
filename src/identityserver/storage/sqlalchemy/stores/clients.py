"""SQL ``ClientStore`` (Duende ``EntityFramework.Stores.ClientStore``): one client with its child tables."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from identityserver.models.client import Client
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.configuration import ClientEntity
from identityserver.storage.sqlalchemy.mappers import client_from_entity


class SqlClientStore:
    """Reads ``Clients`` and its children. Wrap it in ``CachingClientStore`` for the token endpoint."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def find_client_by_id(self, client_id: str) -> Client | None:
        async with self.database.read() as conn:
            session = AsyncSession(bind=conn, expire_on_commit=False)
            try:
                entity = await session.scalar(select(ClientEntity).where(ClientEntity.ClientId == client_id))
                return client_from_entity(entity) if entity is not None else None
            finally:
                await session.close()
