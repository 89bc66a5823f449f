"""``identityserver config import FILE.toml``: clients, resources and users into the database (the role of
Duende's seeding code over ``ConfigurationDbContext``). Entries are replaced by id or name; others are kept."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from identityserver.clock import Clock
from identityserver.models.client import Client
from identityserver.models.resources import ApiResource, ApiScope, IdentityResource
from identityserver.models.users import TestUser
from identityserver.storage.sqlalchemy.aggregates import replace
from identityserver.storage.sqlalchemy.configuration_mappers import (
    api_resource_to_rows,
    api_scope_to_rows,
    client_to_rows,
    identity_resource_to_rows,
)
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.configuration import API_RESOURCE, API_SCOPE, CLIENT, IDENTITY_RESOURCE
from identityserver.storage.sqlalchemy.stores.users import save_users


@dataclasses.dataclass(slots=True)
class ImportResult:
    clients: int = 0
    identity_resources: int = 0
    api_scopes: int = 0
    api_resources: int = 0
    users: int = 0

    def describe(self) -> str:
        return ", ".join(f"{getattr(self, f.name)} {f.name.replace('_', ' ')}" for f in dataclasses.fields(self))


async def import_configuration(
    database: Database,
    clock: Clock,
    clients: Iterable[Client] = (),
    identity_resources: Iterable[IdentityResource] = (),
    api_scopes: Iterable[ApiScope] = (),
    api_resources: Iterable[ApiResource] = (),
    users: Iterable[TestUser] = (),
) -> ImportResult:
    """Write everything in one transaction: either all entries are imported or none."""
    now = clock.utc_now()
    result = ImportResult()
    async with database.write() as conn:
        for client in clients:
            await replace(conn, CLIENT, client_to_rows(client, now), now)
            result.clients += 1
        for identity in identity_resources:
            await replace(conn, IDENTITY_RESOURCE, identity_resource_to_rows(identity, now), now)
            result.identity_resources += 1
        for scope in api_scopes:
            await replace(conn, API_SCOPE, api_scope_to_rows(scope, now), now)
            result.api_scopes += 1
        for api in api_resources:
            await replace(conn, API_RESOURCE, api_resource_to_rows(api, now), now)
            result.api_resources += 1
        result.users = await save_users(conn, users)
    return result
