"""``ClientConfigurationStore`` on the ``Clients`` tables (Duende ``ClientConfigurationStore``)."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.models.client import Client
from identityserver.storage.sqlalchemy.configuration_import import import_configuration
from identityserver.storage.sqlalchemy.engine import Database


class SqlClientConfigurationStore:
    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    async def add(self, client: Client) -> None:
        await import_configuration(self.database, self.clock, [client])
