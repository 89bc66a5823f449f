"""SQL ``ResourceStore`` (Duende ``EntityFramework.Stores.ResourceStore``): identity resources, API scopes and
API resources with their claims, secrets, scopes and properties."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from identityserver.models.resources import ApiResource, ApiScope, IdentityResource, Resources
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.configuration import (
    ApiResourceEntity,
    ApiResourceScopeEntity,
    ApiScopeEntity,
    IdentityResourceEntity,
)
from identityserver.storage.sqlalchemy.mappers import (
    api_resource_from_entity,
    api_scope_from_entity,
    identity_resource_from_entity,
)

E = TypeVar("E")
M = TypeVar("M")


class SqlResourceStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def _query(self, stmt: Select[Any], mapper: Callable[[E], M]) -> list[M]:
        async with self.database.read() as conn:
            session = AsyncSession(bind=conn, expire_on_commit=False)
            try:
                return [mapper(e) for e in (await session.scalars(stmt)).all()]
            finally:
                await session.close()

    @staticmethod
    def _in_order(items: list[M], names: Sequence[str], name: Callable[[M], str]) -> list[M]:
        by_name = {name(i): i for i in items}
        return [by_name[n] for n in dict.fromkeys(names) if n in by_name]

    async def find_identity_resources_by_scope_name(self, scope_names: Sequence[str]) -> list[IdentityResource]:
        if not scope_names:
            return []
        stmt = select(IdentityResourceEntity).where(IdentityResourceEntity.Name.in_(set(scope_names)))
        found = await self._query(stmt, identity_resource_from_entity)
        return self._in_order(found, scope_names, lambda r: r.name)

    async def find_api_scopes_by_name(self, scope_names: Sequence[str]) -> list[ApiScope]:
        if not scope_names:
            return []
        stmt = select(ApiScopeEntity).where(ApiScopeEntity.Name.in_(set(scope_names)))
        found = await self._query(stmt, api_scope_from_entity)
        return self._in_order(found, scope_names, lambda s: s.name)

    async def find_api_resources_by_scope_name(self, scope_names: Sequence[str]) -> list[ApiResource]:
        if not scope_names:
            return []
        stmt = (
            select(ApiResourceEntity)
            .where(ApiResourceEntity.Scopes.any(ApiResourceScopeEntity.Scope.in_(set(scope_names))))
            .order_by(ApiResourceEntity.Id)
        )
        return await self._query(stmt, api_resource_from_entity)

    async def find_api_resources_by_name(self, names: Sequence[str]) -> list[ApiResource]:
        if not names:
            return []
        stmt = select(ApiResourceEntity).where(ApiResourceEntity.Name.in_(set(names)))
        found = await self._query(stmt, api_resource_from_entity)
        return self._in_order(found, names, lambda a: a.name)

    async def get_all_resources(self) -> Resources:
        identity = await self._query(
            select(IdentityResourceEntity).order_by(IdentityResourceEntity.Id), identity_resource_from_entity
        )
        apis = await self._query(select(ApiResourceEntity).order_by(ApiResourceEntity.Id), api_resource_from_entity)
        scopes = await self._query(select(ApiScopeEntity).order_by(ApiScopeEntity.Id), api_scope_from_entity)
        return Resources(identity, apis, scopes)
