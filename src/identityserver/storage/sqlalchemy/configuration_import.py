"""``identityserver config import FILE.toml`` and the apply at ``serve`` start-up: clients, resources and users
into the database (the role of Duende's seeding code over ``ConfigurationDbContext``). Entries are replaced by id
or name; others are kept. Every entry is checked against the columns before the first write, and the writes run
in one transaction under a cross-process lock, so concurrent imports serialize and a failure changes nothing."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, Table
from sqlalchemy.exc import DBAPIError

from identityserver.clock import Clock
from identityserver.models.client import Client
from identityserver.models.identity_providers import IdentityProvider
from identityserver.models.resources import ApiResource, ApiScope, IdentityResource
from identityserver.models.users import TestUser
from identityserver.storage.sqlalchemy.aggregates import EntityRows, replace
from identityserver.storage.sqlalchemy.configuration_mappers import (
    api_resource_to_rows,
    api_scope_to_rows,
    client_to_rows,
    identity_resource_to_rows,
)
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.configuration import (
    API_RESOURCE,
    API_SCOPE,
    CLIENT,
    IDENTITY_RESOURCE,
    Aggregate,
)
from identityserver.storage.sqlalchemy.entities.configuration import identity_providers as providers_table
from identityserver.storage.sqlalchemy.entities.operational import users as users_table
from identityserver.storage.sqlalchemy.mappers import user_to_row
from identityserver.storage.sqlalchemy.stores.identity_providers import provider_to_row, save_identity_providers
from identityserver.storage.sqlalchemy.stores.users import save_users

LOCK_NAME = "identityserver:configuration-import"

_KINDS = (
    ("clients", "client", "clients"),
    ("identity_resources", "identity resource", "identity resources"),
    ("api_scopes", "API scope", "API scopes"),
    ("api_resources", "API resource", "API resources"),
    ("users", "user", "users"),
    ("identity_providers", "identity provider", "identity providers"),
)


class ConfigurationImportError(ValueError):
    """An entry the database cannot hold; the message names the source, the entry and the field."""


@dataclasses.dataclass(slots=True)
class ImportResult:
    clients: int = 0
    identity_resources: int = 0
    api_scopes: int = 0
    api_resources: int = 0
    users: int = 0
    identity_providers: int = 0

    def describe(self) -> str:
        """``"7 clients, 2 API resources, 3 users"``: the kinds with entries ("nothing" when none has)."""
        parts = []
        for name, singular, plural in _KINDS:
            count = getattr(self, name)
            if count:
                parts.append(f"{count} {singular if count == 1 else plural}")
        return ", ".join(parts) or "nothing"


@dataclasses.dataclass(frozen=True, slots=True)
class _Entry:
    kind: str
    label: str
    aggregate: Aggregate
    rows: EntityRows


def _field_name(column: str) -> str:
    """``ClientName`` -> ``client_name`` (the configuration's snake_case of the entity's property)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", column).lower()


INT32 = 2**31
"""``Integer`` columns are ``integer`` (32 bits) on PostgreSQL; SQLite would take any value."""


def _value_problem(column: Column[Any], value: Any) -> str | None:
    length = getattr(column.type, "length", None)
    if isinstance(value, str) and length is not None and len(value) > length:
        return f"{len(value)} characters, the database holds at most {length}"
    integer = isinstance(column.type, Integer) and not isinstance(column.type, BigInteger)
    if integer and isinstance(value, int) and not isinstance(value, bool) and not -INT32 <= value < INT32:
        return f"{value} is out of range (the database holds {-INT32} to {INT32 - 1})"
    return None


def _check_values(label: str, table: Table, rows: Sequence[Mapping[str, Any]], child: bool) -> None:
    """The checks the database would make (PostgreSQL at least), made before the first write, per field."""
    for row in rows:
        for name, value in row.items():
            problem = _value_problem(table.c[name], value) if name in table.c else None
            if problem is not None:
                field = f"{table.name}.{name}" if child else _field_name(name)
                raise ConfigurationImportError(f'{label}: field "{field}": {problem}')


def _label(source: str, kind: str, index: int | None, key: str, value: str) -> str:
    position = f"[{index}]" if index is not None else ""
    return f'{source}: {kind}{position} ({key} "{value}")'


def _entries(
    source: str,
    clients: Iterable[Client],
    identity_resources: Iterable[IdentityResource],
    api_scopes: Iterable[ApiScope],
    api_resources: Iterable[ApiResource],
    now: datetime,
) -> list[_Entry]:
    entries = [
        _Entry("clients", _label(source, "clients", i, "client_id", c.client_id), CLIENT, client_to_rows(c, now))
        for i, c in enumerate(clients)
    ]
    # the built-in identity resources are merged with the file's, so a position would not be the file's
    entries += [
        _Entry(
            "identity_resources",
            _label(source, "identity_resources", None, "name", r.name),
            IDENTITY_RESOURCE,
            identity_resource_to_rows(r, now),
        )
        for r in identity_resources
    ]
    entries += [
        _Entry("api_scopes", _label(source, "api_scopes", i, "name", s.name), API_SCOPE, api_scope_to_rows(s, now))
        for i, s in enumerate(api_scopes)
    ]
    entries += [
        _Entry(
            "api_resources",
            _label(source, "api_resources", i, "name", a.name),
            API_RESOURCE,
            api_resource_to_rows(a, now),
        )
        for i, a in enumerate(api_resources)
    ]
    return entries


def _database_problem(exc: DBAPIError) -> str:
    """The driver's message without the statement or its parameters (which hold secret hashes)."""
    original = str(exc.orig) if exc.orig is not None else type(exc).__name__
    lines = original.splitlines()
    return re.sub(r"^<class '[\w.]+'>: ", "", lines[0] if lines else original)


async def import_configuration(
    database: Database,
    clock: Clock,
    clients: Iterable[Client] = (),
    identity_resources: Iterable[IdentityResource] = (),
    api_scopes: Iterable[ApiScope] = (),
    api_resources: Iterable[ApiResource] = (),
    users: Iterable[TestUser] = (),
    source: str = "<configuration>",
    on_written: Callable[[int, int], None] | None = None,
    identity_providers: Iterable[IdentityProvider] = (),
) -> ImportResult:
    """Check every entry, then write them all in one transaction under :data:`LOCK_NAME`: either all entries
    are imported or none (``ConfigurationImportError`` names the entry that failed). ``on_written(done, total)``
    is called after each entry is written (progress)."""
    now = clock.utc_now()
    entries = _entries(source, clients, identity_resources, api_scopes, api_resources, now)
    user_list = list(users)
    for entry in entries:
        _check_values(entry.label, entry.aggregate.table, [entry.rows.row], child=False)
        for table in entry.aggregate.children:
            _check_values(entry.label, table, entry.rows.of(table), child=True)
    for i, user in enumerate(user_list):
        _check_values(
            _label(source, "users", i, "subject_id", user.subject_id), users_table, [user_to_row(user)], False
        )
    providers = list(identity_providers)
    for i, provider in enumerate(providers):
        label = _label(source, "identity_providers", i, "scheme", provider.scheme)
        _check_values(label, providers_table, [provider_to_row(provider, now)], False)
    result = ImportResult()
    total = len(entries) + len(user_list)
    async with database.exclusive_lock(LOCK_NAME) as conn:
        for done, entry in enumerate(entries, 1):
            try:
                await replace(conn, entry.aggregate, entry.rows, now)
            except DBAPIError as exc:
                raise ConfigurationImportError(f"{entry.label}: {_database_problem(exc)}") from exc
            setattr(result, entry.kind, getattr(result, entry.kind) + 1)
            if on_written is not None:
                on_written(done, total)
        try:
            result.users = await save_users(conn, user_list)
        except DBAPIError as exc:
            raise ConfigurationImportError(f"{source}: users: {_database_problem(exc)}") from exc
        if on_written is not None and user_list:
            on_written(total, total)
        try:
            result.identity_providers = await save_identity_providers(conn, providers, now)
        except DBAPIError as exc:
            raise ConfigurationImportError(f"{source}: identity_providers: {_database_problem(exc)}") from exc
    return result
