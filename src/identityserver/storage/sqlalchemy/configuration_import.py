"""``identityserver config import FILE.toml``: clients, resources and users into the database (the role of
Duende's seeding code over ``ConfigurationDbContext``). Entries are replaced by id or name; others are kept."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from identityserver.clock import Clock
from identityserver.models.client import Client
from identityserver.models.resources import ApiResource, ApiScope, IdentityResource
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.configuration import (
    ApiResourceEntity,
    ApiScopeEntity,
    ClientEntity,
    IdentityResourceEntity,
)
from identityserver.storage.sqlalchemy.mappers import (
    api_resource_to_entity,
    api_scope_to_entity,
    client_to_entity,
    identity_resource_to_entity,
)
from identityserver.storage.sqlalchemy.stores.users import save_users
from identityserver.test_users import TestUser


@dataclasses.dataclass(slots=True)
class ImportResult:
    clients: int = 0
    identity_resources: int = 0
    api_scopes: int = 0
    api_resources: int = 0
    users: int = 0

    def describe(self) -> str:
        return ", ".join(f"{getattr(self, f.name)} {f.name.replace('_', ' ')}" for f in dataclasses.fields(self))


async def _replace(session: AsyncSession, entity_type: type[Any], key: Any, key_value: str, new: Any) -> None:
    """Delete the row with that id or name (children cascade) and add ``new``, keeping ``Created``."""
    existing = await session.scalar(select(entity_type).where(key == key_value))
    if existing is not None:
        new.Created = existing.Created
        await session.delete(existing)
        await session.flush()
    session.add(new)


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
        session = AsyncSession(bind=conn, expire_on_commit=False, autoflush=False)
        try:
            for client in clients:
                entity = client_to_entity(client, now)
                await _replace(session, ClientEntity, ClientEntity.ClientId, client.client_id, entity)
                _touch(entity, now)
                result.clients += 1
            for identity in identity_resources:
                ir = identity_resource_to_entity(identity, now)
                await _replace(session, IdentityResourceEntity, IdentityResourceEntity.Name, identity.name, ir)
                _touch(ir, now)
                result.identity_resources += 1
            for scope in api_scopes:
                se = api_scope_to_entity(scope, now)
                await _replace(session, ApiScopeEntity, ApiScopeEntity.Name, scope.name, se)
                _touch(se, now)
                result.api_scopes += 1
            for api in api_resources:
                ae = api_resource_to_entity(api, now)
                await _replace(session, ApiResourceEntity, ApiResourceEntity.Name, api.name, ae)
                _touch(ae, now)
                result.api_resources += 1
            await session.flush()
        finally:
            await session.close()
        result.users = await save_users(conn, users)
    return result


def _touch(entity: Any, now: Any) -> None:
    """``Updated`` is set when an existing entry was replaced (its ``Created`` is older than now)."""
    entity.Updated = now if entity.Created != now else None
