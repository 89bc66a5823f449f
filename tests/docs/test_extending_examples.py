"""docs/extending.md says only what the code does: every ```python block is type-checked (``mypy --strict``) and
run after the documented setup block, and the server it builds is sent the request the text describes; the slot
table lists every slot of ``configuration.wiring`` with the class the default configuration builds and whether
``override`` reaches it; the error messages quoted are the ones ``build()`` raises."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import subprocess
import sys
import tempfile
import types
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

import identityserver.configuration.wiring
from identityserver import ApiResource, IdentityServerBuilder, IdentityServerOptions, TestUser
from identityserver.configuration.registry import UnusedRegistrationError
from identityserver.configuration.wiring.composition import DEFAULTS, Composition
from identityserver.hosting.app import create_app
from identityserver.hosting.services import Services
from identityserver.models.contexts import ProfileDataRequestContext
from identityserver.models.grants import PersistedGrant
from identityserver.options import DynamicClientRegistrationOptions, MutualTlsOptions
from identityserver.services.protocols import ProfileService
from identityserver.storage.sqlalchemy import SqlTokenCleanupService
from identityserver.validation.protocols import RedirectUriValidator
from tests.support.keys import pregenerated_signing_keys

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "extending.md"
ISSUER = "https://login.example.com"
EXAMPLE = re.compile(r"<!-- example: ([\w-]+) -->\n```python\n(.*?)^```", re.S | re.M)


def _examples() -> dict[str, tuple[int, str]]:
    """name -> (line of the block's first line in the doc, code)."""
    text = DOC.read_text()
    found: dict[str, tuple[int, str]] = {}
    for match in EXAMPLE.finditer(text):
        name = match.group(1)
        if name in found:
            raise AssertionError(f"two examples named {name!r}")
        found[name] = (text.count("\n", 0, match.start(2)) + 1, match.group(2))
    unnamed = text.count("```python") - len(found)
    if unnamed:
        raise AssertionError(f"{unnamed} ```python block(s) lack an '<!-- example: name -->' line before them")
    return found


EXAMPLES = _examples()
NAMES = [name for name in EXAMPLES if name != "setup"]


def _compiled(name: str) -> types.CodeType:
    line, code = EXAMPLES[name]
    return compile("\n" * (line - 1) + code, str(DOC), "exec")  # tracebacks point at the doc's lines


def run_example(name: str) -> dict[str, Any]:
    """The setup block, then the example, in a fresh module."""
    module = types.ModuleType(f"extending_example_{name.replace('-', '_')}")
    sys.modules[module.__name__] = module
    try:
        exec(_compiled("setup"), module.__dict__)
        exec(_compiled(name), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module.__dict__


@contextlib.asynccontextmanager
async def serving(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    with pregenerated_signing_keys():
        for step in services.startup:
            await step()
    transport = httpx.ASGITransport(app=create_app(services), client=("203.0.113.7", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
            yield client
    finally:
        for step in services.shutdown:
            await step()


async def token(client: httpx.AsyncClient, auth: tuple[str, str], **data: str) -> httpx.Response:
    return await client.post("/connect/token", data=data, auth=auth)


def jwt_payload(jwt: str) -> dict[str, Any]:
    part = jwt.split(".")[1]
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return result


def authorize_url(**extra: str) -> str:
    params = {
        "client_id": "spa",
        "redirect_uri": "https://app.example.com/callback",
        "response_type": "code",
        "scope": "openid api1",
        "state": "st4te",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        **extra,
    }
    return "/connect/authorize?" + urlencode(params)


def redirected_to_client(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith("https://app.example.com/callback?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


# -- what each example's text says ------------------------------------------------------------------------------


async def check_profile_service(ns: dict[str, Any], client: httpx.AsyncClient) -> None:
    response = await token(
        client, ("cli", "secret"), grant_type="password", username="alice", password="alice", scope="directory"
    )
    assert response.status_code == 200, response.text
    claims = jwt_payload(response.json()["access_token"])
    assert claims["sub"] == "1" and claims["department"] == "sales"
    assert "cost_center" not in claims


async def check_token_response_generator(ns: dict[str, Any], client: httpx.AsyncClient) -> None:
    response = await token(client, ("backend", "secret"), grant_type="client_credentials", scope="api1")
    assert response.status_code == 200, response.text
    assert response.json()["tenant"] == "default"
    assert response.json()["token_type"] == "Bearer"


async def check_extension_grant(ns: dict[str, Any], client: httpx.AsyncClient) -> None:
    grant = "urn:example:grant-type:delegation"
    ok = await token(client, ("reports", "secret"), grant_type=grant, subject="1", scope="api1")
    assert ok.status_code == 200, ok.text
    claims = jwt_payload(ok.json()["access_token"])
    assert claims["sub"] == "1" and claims["client_id"] == "reports" and claims["scope"] == "api1"
    refused = await token(client, ("reports", "secret"), grant_type=grant, subject="3", scope="api1")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    other_client = await token(client, ("backend", "secret"), grant_type=grant, subject="1", scope="api1")
    assert other_client.status_code == 400 and other_client.json()["error"] == "unauthorized_client"
    discovery = (await client.get("/.well-known/openid-configuration")).json()
    assert grant in discovery["grant_types_supported"]


async def check_custom_token_validator(ns: dict[str, Any], client: httpx.AsyncClient) -> None:
    refused = await token(client, ("backend", "secret"), grant_type="client_credentials", scope="api1")
    assert refused.status_code == 400
    assert refused.json() == {"error": "invalid_request", "error_description": "audience is required"}
    ok = await token(client, ("backend", "secret"), grant_type="client_credentials", scope="api1", audience="billing")
    assert ok.status_code == 200, ok.text
    assert ok.json()["audience"] == "billing"


async def check_custom_authorize_validator(ns: dict[str, Any], client: httpx.AsyncClient) -> None:
    returned = redirected_to_client(await client.get(authorize_url(tenant="initech")))
    assert returned == {
        "error": "access_denied",
        "error_description": "unknown tenant",
        "state": "st4te",
        "iss": ISSUER,
    }
    login = await client.get(authorize_url(tenant="acme"))
    assert login.status_code == 302 and urlsplit(login.headers["location"]).path == "/account/login"


async def check_authorize_step(ns: dict[str, Any], client: httpx.AsyncClient) -> None:
    returned = redirected_to_client(await client.get(authorize_url()))
    assert returned["error"] == "invalid_request" and returned["error_description"] == "tenant is required"
    assert returned["state"] == "st4te"
    login = await client.get(authorize_url(tenant="acme"))
    assert login.status_code == 302 and urlsplit(login.headers["location"]).path == "/account/login"


async def check_event_sink(ns: dict[str, Any], client: httpx.AsyncClient) -> None:
    assert (await token(client, ("backend", "secret"), grant_type="client_credentials")).status_code == 200
    assert (await token(client, ("backend", "wrong"), grant_type="client_credentials")).status_code == 401
    metrics = ns["metrics"]
    assert metrics.tokens_issued == {"backend": 1}
    assert metrics.failed_client_logins == {"backend": 1}


async def check_own_event(ns: dict[str, Any], client: httpx.AsyncClient) -> None:
    seen: list[Any] = []

    class Recorder:
        async def persist(self, event: Any) -> None:
            seen.append(event)

    events = ns["services"].events
    events.sink = Recorder()
    await ns["on_password_changed"]("1", "198.51.100.1")
    assert [(type(e).__name__, e.subject_id, e.remote_ip_address) for e in seen] == [
        ("PasswordChangedEvent", "1", "198.51.100.1")
    ]
    assert seen[0].to_dict()["Name"] == "Password Changed"


async def check_decorate_client_store(ns: dict[str, Any], client: httpx.AsyncClient) -> None:
    services = ns["services"]
    store = services.clients
    assert type(store).__name__ == "AuditingClientStore"
    assert (await token(client, ("backend", "secret"), grant_type="client_credentials")).status_code == 200
    assert (await token(client, ("nobody", "secret"), grant_type="client_credentials")).status_code == 401
    assert store.lookups["backend"] >= 1 and store.lookups["nobody"] >= 1
    assert services.client_list is not None
    assert {c.client_id for c in await services.client_list.get_all_clients()} == {"backend", "spa"}


async def check_add_factory(ns: dict[str, Any], client: httpx.AsyncClient) -> None:
    ok = await token(client, ("billing", "s3cret"), grant_type="client_credentials", scope="api1")
    assert ok.status_code == 200, ok.text
    assert (await token(client, ("backend", "secret"), grant_type="client_credentials")).status_code == 401
    assert type(ns["services"].clients).__name__ == "CachingClientStore"


CHECKS: dict[str, Callable[[dict[str, Any], httpx.AsyncClient], Awaitable[None]]] = {
    "profile-service": check_profile_service,
    "token-response-generator": check_token_response_generator,
    "extension-grant": check_extension_grant,
    "custom-token-validator": check_custom_token_validator,
    "custom-authorize-validator": check_custom_authorize_validator,
    "authorize-step": check_authorize_step,
    "event-sink": check_event_sink,
    "own-event": check_own_event,
    "decorate-client-store": check_decorate_client_store,
    "add-factory": check_add_factory,
}


def test_every_example_has_a_check():
    assert sorted(CHECKS) == sorted(n for n in NAMES if n != "token-cleanup")


@pytest.mark.parametrize("name", sorted(CHECKS))
async def test_example_runs_and_does_what_the_doc_says(name):
    ns = run_example(name)
    services = ns["services"]
    assert isinstance(services, Services)
    async with serving(services) as client:
        await CHECKS[name](ns, client)


async def test_token_cleanup_example_runs_its_override(tmp_path, monkeypatch, caplog):
    from identityserver.storage.sqlalchemy import migrate

    monkeypatch.chdir(tmp_path)  # the example names a relative SQLite file
    ns = run_example("token-cleanup")
    services, database = ns["services"], ns["database"]
    cleanup = services.token_cleanup
    assert type(cleanup).__name__ == "AuditedTokenCleanup"
    try:
        await migrate.upgrade(database)
        now = datetime.now(UTC)
        await services.persisted_grants.store(
            PersistedGrant(
                "k1", "refresh_token", "backend", now - timedelta(hours=2), "{}", expiration=now - timedelta(hours=1)
            )
        )
        with caplog.at_level(logging.DEBUG, logger="audit.cleanup"):
            await cleanup.cleanup_grants()
        assert "removed 1 rows from PersistedGrants" in caplog.text
        assert "token cleanup: " in caplog.text
        assert await services.persisted_grants.get("k1") is None
    finally:
        await database.dispose()


def test_examples_type_check_with_mypy_strict(tmp_path):
    """One mypy run over every example (each after the setup block) as its own module."""
    setup = EXAMPLES["setup"][1]
    for name in NAMES:
        (tmp_path / f"example_{name.replace('-', '_')}.py").write_text(setup + "\n" + EXAMPLES[name][1])
    (tmp_path / "example_setup.py").write_text(setup)
    cache = Path(tempfile.gettempdir()) / "identityserver-docs-mypy-cache"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(cache),
            "--python-version",
            "3.11",
            *sorted(str(p) for p in tmp_path.glob("example_*.py")),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# -- the slot table -----------------------------------------------------------------------------------------------


def _slot_rows() -> dict[str, tuple[str, str]]:
    """slot name -> (default cell, override cell) of the table under "Slots and their defaults"."""
    section = DOC.read_text().split("## Slots and their defaults", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1], cells[2])
    return rows


def _name(key: object) -> str:
    return str(getattr(key, "__name__", key))


def _builders() -> list[IdentityServerBuilder]:
    """The default configuration, and one with test users, server-side sessions, mutual TLS and dynamic
    registration (which fill the optional slots and build the registration ones)."""
    plain = IdentityServerBuilder(IdentityServerOptions(issuer_uri=ISSUER))
    full = IdentityServerBuilder(
        IdentityServerOptions(
            issuer_uri=ISSUER,
            mutual_tls=MutualTlsOptions(enabled=True),
            dynamic_client_registration=DynamicClientRegistrationOptions(enabled=True),
        )
    )
    full.add_test_users([TestUser("1", "alice", "unused-hash")]).add_server_side_sessions()
    return [plain, full]


def _defaults() -> dict[object, list[object]]:
    """slot -> what each configuration of ``_builders`` builds for it."""
    built: dict[object, list[object]] = {key: [] for key in DEFAULTS}
    for builder in _builders():
        composition = Composition(builder)
        for key in DEFAULTS:
            built[key].append(composition.optional(cast(Any, key)))
    return built


def test_the_table_lists_every_slot_of_the_wiring():
    assert identityserver.configuration.wiring.AREAS  # every area module registered its defaults
    rows = _slot_rows()
    assert sorted(_name(k) for k in DEFAULTS if _name(k) not in rows) == []
    assert sorted(set(rows) - {_name(k) for k in DEFAULTS}) == []


def test_the_table_names_the_default_each_configuration_builds():
    rows = _slot_rows()
    wrong = []
    for key, values in _defaults().items():
        cell = rows[_name(key)][0]
        for value in values:
            expected = "none" if value is None else f"`{type(value).__name__}`"
            if expected not in cell:
                wrong.append(f"{_name(key)}: {expected} not in {cell!r}")
    assert wrong == []


def test_the_override_column_says_whether_override_is_used():
    rows = _slot_rows()
    wrong = []
    for key, values in _defaults().items():
        present = [(builder, value) for builder, value in zip(_builders(), values, strict=True) if value is not None]
        if not present:
            used = False
        else:
            builder, value = present[-1]
            subclass = type(f"My{type(value).__name__}", (type(value),), {})
            builder.override(cast(Any, key), subclass)
            try:
                builder.build()
                used = True
            except UnusedRegistrationError:
                used = False
        if rows[_name(key)][1] != ("yes" if used else "no"):
            wrong.append(f"{_name(key)}: override is {'' if used else 'not '}used")
    assert wrong == []


def test_classes_overridable_inside_a_slot_are_listed():
    text = DOC.read_text()
    paragraph = text.split("Classes that are built inside one of these slots", 1)[1].split("\n\n", 1)[0]
    source = "".join(p.read_text() for p in (ROOT / "src/identityserver/configuration/wiring").glob("*.py"))
    inner = set(re.findall(r"\bc\.cls\(\s*(\w+),", source)) - {_name(k) for k in DEFAULTS}
    assert sorted(n for n in inner if f"`{n}`" not in paragraph) == []


# -- the errors quoted -------------------------------------------------------------------------------------------


def _quoted_errors() -> list[str]:
    section = DOC.read_text().split("## The registry", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```text\n(.*?)```", section, re.S)]


class AuditedTokenCleanup(SqlTokenCleanupService):
    """Overridden under the wrong key in the quoted error."""


class LenientRedirectUris:
    """Not a subclass of the default it overrides."""


class DirectoryProfileService:
    """Lacks ``is_active``."""

    async def get_profile_data(self, context: ProfileDataRequestContext) -> None:
        pass


def test_the_quoted_errors_are_what_build_raises():
    raised: list[str] = []
    builder = IdentityServerBuilder(IdentityServerOptions(issuer_uri=ISSUER))
    builder.override(SqlTokenCleanupService, AuditedTokenCleanup)
    with pytest.raises(UnusedRegistrationError) as unused:
        builder.build()
    raised.append(f"identityserver.configuration.registry.UnusedRegistrationError: {unused.value}")

    builder = IdentityServerBuilder(IdentityServerOptions(issuer_uri=ISSUER))
    builder.override(RedirectUriValidator, LenientRedirectUris)
    with pytest.raises(TypeError) as not_a_subclass:
        builder.build()
    raised.append(f"TypeError: {not_a_subclass.value}")

    with pytest.raises(TypeError) as lacking:
        IdentityServerBuilder().add(ProfileService, DirectoryProfileService())
    raised.append(f"TypeError: {lacking.value}")

    builder = IdentityServerBuilder(IdentityServerOptions(issuer_uri=ISSUER))
    builder.add_in_memory_api_resources([ApiResource("orders", allowed_access_token_signing_algorithms=["ES256"])])
    with pytest.raises(identityserver.configuration.wiring.ConfigurationError) as algorithms:
        builder.build()
    raised.append(f"identityserver.configuration.wiring.ConfigurationError: {algorithms.value}")

    assert _quoted_errors() == raised
