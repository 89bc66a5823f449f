"""``ClientConfigurationStore`` and ``ClientRegistrationStore`` on the ``Clients`` tables (Duende
``ClientConfigurationStore``; RFC 7592 read, update and delete)."""

from __future__ import annotations

import dataclasses

from identityserver.clock import Clock
from identityserver.models.client import Client
from identityserver.storage.sqlalchemy.administration import change_client, remove_client
from identityserver.storage.sqlalchemy.configuration_import import import_configuration
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.stores.clients import SqlClientStore


class SqlClientConfigurationStore:
    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock
        self._clients = SqlClientStore(database)

    async def find_client_by_id(self, client_id: str) -> Client | None:
        """Read straight from the tables (no cache): RFC 7592 reads must see the latest update."""
        return await self._clients.find_client_by_id(client_id)

    async def add(self, client: Client) -> None:
        await import_configuration(self.database, self.clock, [client])

    async def update(self, client: Client) -> None:
        """Replace the client and its child rows in one transaction; ``administration.NotFoundError`` (a
        ``LookupError``) when it does not exist."""

        def replace(stored: Client) -> None:
            for f in dataclasses.fields(Client):
                setattr(stored, f.name, getattr(client, f.name))

        await change_client(self.database, client.client_id, replace, self.clock.utc_now())

    async def remove(self, client_id: str) -> None:
        """``administration.NotFoundError`` (a ``LookupError``) when it does not exist."""
        await remove_client(self.database, client_id)
