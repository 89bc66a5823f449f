"""SQL ``ResourceStore`` (Duende ``EntityFramework.Stores.ResourceStore``): identity resources, API scopes and
API resources with their claims, secrets, scopes and properties."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import ColumnElement, exists

from identityserver.models.resources import ApiResource, ApiScope, IdentityResource, Resources, in_requested_order
from identityserver.storage.sqlalchemy.aggregates import EntityRows, load
from identityserver.storage.sqlalchemy.configuration_mappers import (
    api_resource_from_rows,
    api_scope_from_rows,
    identity_resource_from_rows,
)
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.configuration import (
    API_RESOURCE,
    API_SCOPE,
    IDENTITY_RESOURCE,
    Aggregate,
    api_resource_scopes,
    api_resources,
    api_scopes,
    identity_resources,
)

M = TypeVar("M")


class SqlResourceStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def _query(
        self, aggregate: Aggregate, mapper: Callable[[EntityRows], M], *criteria: ColumnElement[bool]
    ) -> list[M]:
        """The matching entities in ``Id`` order."""
        async with self.database.read() as conn:
            found = await load(conn, aggregate, *criteria)
        return [mapper(e) for e in found]

    async def find_identity_resources_by_scope_name(self, scope_names: Sequence[str]) -> list[IdentityResource]:
        if not scope_names:
            return []
        criterion = identity_resources.c.Name.in_(set(scope_names))
        found = await self._query(IDENTITY_RESOURCE, identity_resource_from_rows, criterion)
        return in_requested_order(found, scope_names)

    async def find_api_scopes_by_name(self, scope_names: Sequence[str]) -> list[ApiScope]:
        if not scope_names:
            return []
        found = await self._query(API_SCOPE, api_scope_from_rows, api_scopes.c.Name.in_(set(scope_names)))
        return in_requested_order(found, scope_names)

    async def find_api_resources_by_scope_name(self, scope_names: Sequence[str]) -> list[ApiResource]:
        if not scope_names:
            return []
        has_scope = exists().where(
            api_resource_scopes.c.ApiResourceId == api_resources.c.Id,
            api_resource_scopes.c.Scope.in_(set(scope_names)),
        )
        return await self._query(API_RESOURCE, api_resource_from_rows, has_scope)

    async def find_api_resources_by_name(self, names: Sequence[str]) -> list[ApiResource]:
        if not names:
            return []
        found = await self._query(API_RESOURCE, api_resource_from_rows, api_resources.c.Name.in_(set(names)))
        return in_requested_order(found, names)

    async def get_all_resources(self) -> Resources:
        identity = await self._query(IDENTITY_RESOURCE, identity_resource_from_rows)
        apis = await self._query(API_RESOURCE, api_resource_from_rows)
        scopes = await self._query(API_SCOPE, api_scope_from_rows)
        return Resources(identity, apis, scopes)
