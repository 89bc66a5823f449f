"""SQL ``ClientStore`` (Duende ``EntityFramework.Stores.ClientStore``): one client with its child tables."""

from __future__ import annotations

from identityserver.models.client import Client
from identityserver.storage.sqlalchemy.aggregates import load
from identityserver.storage.sqlalchemy.configuration_mappers import client_from_rows
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.configuration import CLIENT, clients
from identityserver.storage.sqlalchemy.stores.common import report_unreadable


class SqlClientStore:
    """Reads ``Clients`` and its children (one SELECT per child table). Wrap it in ``CachingClientStore`` for
    the token endpoint. A row that cannot be mapped (an undefined enum value) is logged and treated as an
    unknown client: fail closed."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def find_client_by_id(self, client_id: str) -> Client | None:
        async with self.database.read() as conn:
            found = await load(conn, CLIENT, clients.c.ClientId == client_id)
        if not found:
            return None
        try:
            return client_from_rows(found[0])
        except ValueError as exc:  # e.g. an enum column holding a value IdentityServer does not define
            report_unreadable("client", client_id, str(exc))
            return None

    async def get_all_clients(self) -> list[Client]:
        """``ListableClientStore``: every readable client (the portal page and the default CORS policy)."""
        async with self.database.read() as conn:
            found = await load(conn, CLIENT)
        listed = []
        for rows in found:
            try:
                listed.append(client_from_rows(rows))
            except ValueError as exc:
                report_unreadable("client", str(rows.row.get("ClientId", "?")), str(exc))
        return listed
