"""Upstream providers from IdentityServer's ``IdentityProviders`` table (Properties: a JSON object of strings, as
EF stores Duende's ``IdentityProvider.Properties``) and the account links in ``IdentityServerExternalLogins``."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from identityserver.models.identity_providers import ExternalLogin, IdentityProvider
from identityserver.storage.sqlalchemy.async_bridge import AsyncConnection
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.configuration import identity_providers as providers_table
from identityserver.storage.sqlalchemy.entities.operational import external_logins as logins_table

logger = logging.getLogger("identityserver.federation")


def provider_from_row(row: Mapping[Any, Any]) -> IdentityProvider:
    """A row as IdentityServer wrote it; unreadable Properties give an empty dictionary (the provider then
    fails validation and is logged, not served)."""
    properties: dict[str, str] = {}
    try:
        raw = json.loads(row["Properties"] or "{}")
        if isinstance(raw, dict):
            properties = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    except ValueError:
        logger.error("identity provider %r: Properties is not JSON", row["Scheme"])
    return IdentityProvider(row["Scheme"], row["DisplayName"], bool(row["Enabled"]), row["Type"], properties)


def provider_to_row(provider: IdentityProvider, now: datetime) -> dict[str, Any]:
    return {
        "Scheme": provider.scheme,
        "DisplayName": provider.display_name,
        "Enabled": provider.enabled,
        "Type": provider.type,
        "Properties": json.dumps(provider.properties, separators=(",", ":")),
        "Created": now,
        "NonEditable": False,
    }


async def save_identity_providers(conn: AsyncConnection, providers: Iterable[IdentityProvider], now: datetime) -> int:
    """Insert or replace providers by scheme (``config import`` and the start-up apply)."""
    count = 0
    for provider in providers:
        row = provider_to_row(provider, now)
        changed = await conn.execute(
            update(providers_table)
            .where(providers_table.c.Scheme == provider.scheme)
            .values({k: v for k, v in row.items() if k not in ("Created", "NonEditable")} | {"Updated": now})
        )
        if not changed.rowcount:
            await conn.execute(providers_table.insert().values(**row))
        count += 1
    return count


class SqlIdentityProviderStore:
    """The ``IdentityProviderStore`` over ``IdentityProviders`` (Duende EF ``IdentityProviderStore``)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def get_all_schemes(self) -> list[IdentityProvider]:
        async with self.database.read() as conn:
            rows = (await conn.execute(select(providers_table).order_by(providers_table.c.Id))).mappings().all()
        return [provider_from_row(row) for row in rows]

    async def get_by_scheme(self, scheme: str) -> IdentityProvider | None:
        async with self.database.read() as conn:
            stmt = select(providers_table).where(providers_table.c.Scheme == scheme)
            row = (await conn.execute(stmt)).mappings().first()
        return provider_from_row(row) if row is not None else None


def _login(row: Mapping[Any, Any]) -> ExternalLogin:
    return ExternalLogin(
        row["Scheme"], row["ProviderSubjectId"], row["SubjectId"], row["Created"], row["DisplayName"], row["LastUsed"]
    )


class SqlExternalLoginStore:
    """The ``ExternalLoginStore`` over ``IdentityServerExternalLogins``."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def find(self, scheme: str, provider_subject_id: str) -> ExternalLogin | None:
        t = logins_table
        async with self.database.read() as conn:
            stmt = select(t).where(t.c.Scheme == scheme, t.c.ProviderSubjectId == provider_subject_id)
            row = (await conn.execute(stmt)).mappings().first()
        return _login(row) if row is not None else None

    async def find_by_subject(self, subject_id: str) -> list[ExternalLogin]:
        async with self.database.read() as conn:
            stmt = select(logins_table).where(logins_table.c.SubjectId == subject_id)
            return [_login(row) for row in (await conn.execute(stmt)).mappings().all()]

    async def add(self, login: ExternalLogin) -> bool:
        try:
            async with self.database.write() as conn:
                await conn.execute(
                    logins_table.insert().values(
                        Scheme=login.scheme,
                        ProviderSubjectId=login.provider_subject_id,
                        SubjectId=login.subject_id,
                        DisplayName=login.display_name,
                        Created=login.created,
                        LastUsed=login.last_used,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def touch(self, scheme: str, provider_subject_id: str, when: datetime) -> None:
        t = logins_table
        async with self.database.write() as conn:
            await conn.execute(
                update(t)
                .where(t.c.Scheme == scheme, t.c.ProviderSubjectId == provider_subject_id)
                .values(LastUsed=when)
            )

    async def remove_subject(self, subject_id: str) -> None:
        async with self.database.write() as conn:
            await conn.execute(delete(logins_table).where(logins_table.c.SubjectId == subject_id))
