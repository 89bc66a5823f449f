"""Upstream providers in IdentityServer's ``IdentityProviders`` table (read exactly as IdentityServer 6.x writes
them, and upserted by ``config import`` / the start-up apply) and the account links in
``IdentityServerExternalLogins``, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from identityserver.clock import SystemClock
from identityserver.configuration.loader import parse_configuration
from identityserver.models.identity_providers import ExternalLogin, oidc_provider
from identityserver.storage.sqlalchemy.configuration_import import import_configuration
from identityserver.storage.sqlalchemy.entities.configuration import identity_providers
from identityserver.storage.sqlalchemy.stores.identity_providers import SqlExternalLoginStore, SqlIdentityProviderStore
from identityserver.stores.identity_providers import IdentityProviders
from tests.storage.conftest import Backend
from tests.support.clock import FakeClock

NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def test_a_row_written_by_identityserver_is_read_as_it_stores_it(sql_backend: Backend) -> None:
    properties = {
        "Authority": "https://login.partner.example",
        "ClientId": "ids",
        "ClientSecret": "s3cret",
        "ResponseType": "code",
        "Scope": "openid profile",
        "GetClaimsFromUserInfoEndpoint": "False",
        "UsePkce": "True",
    }
    async with sql_backend.db.write() as conn:
        await conn.execute(
            identity_providers.insert(),
            [
                {"Scheme": "partner", "DisplayName": "Partner", "Enabled": True, "Type": "oidc",
                 "Properties": json.dumps(properties), "Created": NOW, "NonEditable": False},
                {"Scheme": "legacy", "DisplayName": None, "Enabled": False, "Type": "oidc",
                 "Properties": json.dumps({"Authority": "https://old.example", "ClientId": "ids"}),
                 "Created": NOW, "NonEditable": False},
                {"Scheme": "saml", "DisplayName": "Not OIDC", "Enabled": True, "Type": "saml2p",
                 "Properties": "{}", "Created": NOW, "NonEditable": False},
            ],
        )  # fmt: skip
    store = SqlIdentityProviderStore(sql_backend.db)
    found = await store.get_by_scheme("partner")
    assert found is not None and found.properties == properties
    provider = oidc_provider(found)
    assert (provider.authority, provider.client_secret, provider.scopes) == (
        "https://login.partner.example",
        "s3cret",
        ["openid", "profile"],
    )
    assert provider.get_claims_from_user_info_endpoint is False and provider.use_pkce is True
    legacy = oidc_provider(await store.get_by_scheme("legacy"))  # type: ignore[arg-type]
    assert legacy.response_type == "id_token" and legacy.scope == "openid"  # IdentityServer's defaults
    assert await store.get_by_scheme("missing") is None
    # the cached reader serves enabled, valid providers only (the saml2p row is logged, not served)
    cached = IdentityProviders(store, FakeClock(), 3600)
    assert [p.scheme for p in await cached.enabled()] == ["partner"]
    assert await cached.find("legacy") is None and await cached.find("saml") is None


async def test_config_import_upserts_the_files_providers_by_scheme(sql_backend: Backend) -> None:
    def providers(secret: str) -> list:  # type: ignore[type-arg]
        data = {
            "identity_providers": [
                {"scheme": "corp", "authority": "https://idp.example", "client_id": "c", "client_secret": secret,
                 "response_type": "code", "use_pkce": False},
            ]
        }  # fmt: skip
        return parse_configuration(data, "c.toml").identity_providers

    for secret in ("one", "two"):
        result = await import_configuration(sql_backend.db, SystemClock(), identity_providers=providers(secret))
        assert result.identity_providers == 1 and "1 identity provider" in result.describe()
    async with sql_backend.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(identity_providers))).scalar() == 1
    stored = await SqlIdentityProviderStore(sql_backend.db).get_by_scheme("corp")
    assert stored is not None and stored.properties["ClientSecret"] == "two"
    assert stored.properties["UsePkce"] == "False"  # .NET's bool.ToString(), as IdentityServer writes it


async def test_external_logins_are_unique_per_upstream_account(sql_backend: Backend) -> None:
    store = SqlExternalLoginStore(sql_backend.db)
    link = ExternalLogin("corp", "up-1", "local-1", NOW, "Alice", None)
    assert await store.add(link) is True
    assert await store.add(ExternalLogin("corp", "up-1", "local-2", NOW)) is False  # already someone's
    assert await store.add(ExternalLogin("other", "up-1", "local-1", NOW)) is True
    await store.touch("corp", "up-1", NOW + timedelta(hours=1))
    found = await store.find("corp", "up-1")
    assert found is not None and found.subject_id == "local-1" and found.last_used == NOW + timedelta(hours=1)
    assert sorted(x.scheme for x in await store.find_by_subject("local-1")) == ["corp", "other"]
    assert await store.find("corp", "up-2") is None
