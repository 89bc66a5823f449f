"""RFC 7592 client management over HTTP: the registration response's ``registration_client_uri`` and
``registration_access_token`` (stored hashed), GET, PUT (validated like a registration; the secret kept unless
rotation is asked; optional token rotation) and DELETE (client, grants and tokens gone); every refusal changes
nothing and says nothing about other clients."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from urllib.parse import urlencode

import pytest

from identityserver.configuration.host import create_builder
from identityserver.configuration.loader import parse_configuration
from identityserver.crypto.hashing import sha256_base64
from identityserver.models.grants import PersistedGrantFilter
from identityserver.options import DynamicClientRegistrationOptions
from tests.registration.support import running_sql
from tests.support.browser import Browser, pkce_pair, redirect_parameters
from tests.support.clock import FakeClock
from tests.support.server import basic, make_builder, running

CONFIG = """
[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]

[[users]]
subject_id = "1"
username = "alice"
password = "alice"
"""
PARTNER_TOKEN = "partner-initial-access-token"
PARTNER = {"Authorization": f"Bearer {PARTNER_TOKEN}"}
OPTIONS = DynamicClientRegistrationOptions(
    enabled=True,
    allowed_scopes=("openid", "api1"),
    initial_access_tokens={
        "partner": {"token_hash": sha256_base64(PARTNER_TOKEN), "grant_types": ("client_credentials",)}
    },
)
CODE_CLIENT = {
    "client_name": "App",
    "client_uri": "https://app.example/",
    "redirect_uris": ["https://app.example/cb"],
    "grant_types": ["authorization_code", "refresh_token"],
    "scope": "openid api1",
}
M2M_CLIENT = {"client_name": "Job", "grant_types": ["client_credentials"], "scope": "api1"}


def builder(**options):
    b = make_builder(parse_configuration(tomllib.loads(CONFIG)))
    b.options = dataclasses.replace(b.options, dynamic_client_registration=dataclasses.replace(OPTIONS, **options))
    return b


@pytest.fixture
async def server():
    async with running(builder()) as srv:
        yield srv


async def register(server, body):
    response = await server.client.post("/connect/register", json=body, headers=PARTNER)
    assert response.status_code == 201, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def manage(server, method: str, registered: dict, body=None, token: str | None = None):
    headers = bearer(token if token is not None else registered["registration_access_token"])
    return await server.client.request(
        method,
        registered["registration_client_uri"],
        content=None if body is None else json.dumps(body),
        headers={**headers, **({"Content-Type": "application/json"} if body is not None else {})},
    )


def update_of(registered: dict, **changes):
    body = {k: registered[k] for k in ("client_id", "client_name", "redirect_uris", "grant_types", "scope")}
    return {**body, **changes}


async def cc_token(server, registered, secret: str | None = None):
    return await server.token(
        {"grant_type": "client_credentials", "scope": "api1"},
        headers=basic(registered["client_id"], secret or registered["client_secret"]),
    )


async def test_registration_response_carries_the_client_uri_and_a_hashed_access_token(server):
    registered = await register(server, CODE_CLIENT)
    client_id, token = registered["client_id"], registered["registration_access_token"]
    assert registered["registration_client_uri"] == f"{server.issuer}/connect/register?client_id={client_id}"
    assert len(token) >= 43
    grants = await server.services.persisted_grants.get_all(PersistedGrantFilter(client_id=client_id))
    assert [g.type for g in grants] == ["registration_access_token"]
    assert token not in grants[0].key and token not in grants[0].data  # only its hash is stored


async def test_get_returns_the_current_metadata(server):
    registered = await register(server, CODE_CLIENT)
    response = await manage(server, "GET", registered)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    for name in ("client_id", "client_name", "client_uri", "redirect_uris", "grant_types", "scope", "response_types"):
        assert body[name] == registered[name], name
    assert body["registration_access_token"] == registered["registration_access_token"]
    assert body["registration_client_uri"] == registered["registration_client_uri"]
    assert "client_secret" not in body


async def test_wrong_missing_or_foreign_tokens_get_the_same_401(server):
    mine = await register(server, CODE_CLIENT)
    theirs = await register(server, {**CODE_CLIENT, "client_name": "Other"})
    missing = await server.client.get(mine["registration_client_uri"])
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    answers = [
        await manage(server, "GET", mine, token="wrong"),
        await manage(server, "GET", mine, token=theirs["registration_access_token"]),
        await manage(server, "DELETE", mine, token=theirs["registration_access_token"]),
        await manage(server, "PUT", mine, update_of(mine), token=theirs["registration_access_token"]),
        await server.client.get("/connect/register?client_id=does-not-exist", headers=bearer("wrong")),
        await server.client.get(
            "/connect/register?client_id=does-not-exist", headers=bearer(theirs["registration_access_token"])
        ),
    ]
    for answer in answers:  # never a hint whether the client exists
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert answer.json() == answers[0].json()
    assert (await manage(server, "GET", mine)).json()["client_name"] == "App"  # nothing changed
    assert (await manage(server, "GET", theirs)).json()["client_name"] == "Other"


async def test_put_replaces_the_metadata_and_keeps_the_secret(server):
    registered = await register(server, M2M_CLIENT)
    response = await manage(
        server, "PUT", registered, {"client_id": registered["client_id"], **M2M_CLIENT, "client_name": "Renamed"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["client_name"] == "Renamed" and "client_secret" not in body
    assert (await manage(server, "GET", registered)).json()["client_name"] == "Renamed"
    assert (await cc_token(server, registered)).status_code == 200  # same secret still works


async def test_put_drops_omitted_metadata(server):
    registered = await register(server, CODE_CLIENT)
    response = await manage(server, "PUT", registered, update_of(registered, redirect_uris=["https://app.example/new"]))
    assert response.status_code == 200, response.text
    client = await server.services.clients.find_client_by_id(registered["client_id"])
    assert client.redirect_uris == ["https://app.example/new"] and client.client_uri is None
    assert client.require_pkce and client.require_consent  # still untrusted


async def test_put_rotates_the_secret_when_asked(server):
    registered = await register(server, M2M_CLIENT)
    body = {"client_id": registered["client_id"], **M2M_CLIENT, "rotate_client_secret": True}
    response = await manage(server, "PUT", registered, body)
    assert response.status_code == 200, response.text
    new_secret = response.json()["client_secret"]
    assert new_secret != registered["client_secret"] and response.json()["client_secret_expires_at"] == 0
    assert (await cc_token(server, registered)).json()["error"] == "invalid_client"
    assert (await cc_token(server, registered, new_secret)).status_code == 200


async def test_put_with_the_current_secret_is_accepted_and_a_wrong_one_refused(server):
    registered = await register(server, M2M_CLIENT)
    same = {"client_id": registered["client_id"], **M2M_CLIENT, "client_secret": registered["client_secret"]}
    assert (await manage(server, "PUT", registered, same)).status_code == 200
    wrong = await manage(server, "PUT", registered, {**same, "client_secret": "guess", "client_name": "Changed"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client_metadata"
    assert (await manage(server, "GET", registered)).json()["client_name"] == "Job"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"client_id": "someone-else"}, "invalid_client_metadata"),
        ({"client_id": None}, "invalid_client_metadata"),
        ({"redirect_uris": ["http://app.example/cb"]}, "invalid_redirect_uri"),
        ({"grant_types": ["authorization_code", "client_credentials"]}, "invalid_client_metadata"),
        ({"grant_types": ["authorization_code", "password"]}, "invalid_client_metadata"),
        ({"scope": "openid admin"}, "invalid_client_metadata"),
        ({"logo_uri": "https://127.0.0.1/logo.png"}, "invalid_client_metadata"),
        ({"rotate_client_secret": "yes"}, "invalid_client_metadata"),
    ],
)
async def test_invalid_updates_are_refused_and_change_nothing(change, error):
    """Open registration: the default policy the client was registered under still applies, so no privilege
    comes through PUT either."""
    async with running(builder(initial_access_tokens={})) as server:
        registered = await register(server, CODE_CLIENT)
        body = {k: v for k, v in update_of(registered, client_name="Changed", **change).items() if v is not None}
        response = await manage(server, "PUT", registered, body)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == error
        current = (await manage(server, "GET", registered)).json()
        assert current["client_name"] == "App" and current["redirect_uris"] == ["https://app.example/cb"]
        assert current["grant_types"] == ["authorization_code", "refresh_token"]


async def test_put_with_a_malformed_body_is_refused(server):
    registered = await register(server, CODE_CLIENT)
    response = await server.client.put(
        registered["registration_client_uri"],
        content=b"{not json",
        headers={**bearer(registered["registration_access_token"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"
    form = await server.client.put(
        registered["registration_client_uri"], data={"a": "b"}, headers=bearer(registered["registration_access_token"])
    )
    assert form.status_code == 415


async def test_registration_access_token_rotates_on_update_when_configured():
    async with running(builder(rotate_registration_access_token=True)) as server:
        registered = await register(server, M2M_CLIENT)
        response = await manage(server, "PUT", registered, {"client_id": registered["client_id"], **M2M_CLIENT})
        assert response.status_code == 200, response.text
        new_token = response.json()["registration_access_token"]
        assert new_token != registered["registration_access_token"]
        assert (await manage(server, "GET", registered)).status_code == 401
        assert (await manage(server, "GET", registered, token=new_token)).status_code == 200


async def refresh_token_of(server, registered) -> str:
    browser = Browser(server.client)
    verifier, challenge = pkce_pair()
    query = urlencode(
        {
            "client_id": registered["client_id"],
            "response_type": "code",
            "redirect_uri": "https://app.example/cb",
            "scope": "openid api1 offline_access",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    page = await browser.login(await browser.get(f"/connect/authorize?{query}"), "alice", "alice")
    final = await browser.submit(page, {"button": "yes"})
    token = await server.token(
        {
            "grant_type": "authorization_code",
            "code": redirect_parameters(final)["code"],
            "redirect_uri": "https://app.example/cb",
            "code_verifier": verifier,
        },
        headers=basic(registered["client_id"], registered["client_secret"]),
    )
    assert token.status_code == 200, token.text
    return token.json()["refresh_token"]


async def test_delete_removes_the_client_and_revokes_its_grants_and_tokens(server):
    registered = await register(server, CODE_CLIENT)
    refresh_token = await refresh_token_of(server, registered)
    other = await register(server, {**CODE_CLIENT, "client_name": "Other"})
    response = await manage(server, "DELETE", registered)
    assert response.status_code == 204
    assert await server.services.clients.find_client_by_id(registered["client_id"]) is None
    left = await server.services.persisted_grants.get_all(PersistedGrantFilter(client_id=registered["client_id"]))
    assert left == []  # refresh token, consent and registration access token are gone
    refreshed = await server.token(
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers=basic(registered["client_id"], registered["client_secret"]),
    )
    assert refreshed.status_code in (400, 401) and refreshed.json()["error"] in ("invalid_client", "invalid_grant")
    assert (await manage(server, "GET", registered)).status_code == 401
    assert (await manage(server, "DELETE", registered)).status_code == 401
    assert (await manage(server, "GET", other)).status_code == 200  # other clients are untouched


async def test_management_in_the_database_is_served_at_once(tmp_path):
    """SQL stores behind the client cache: an update and a delete take effect on the next request."""
    config = parse_configuration(tomllib.loads(CONFIG))
    config.options = dataclasses.replace(
        config.options, issuer_uri="https://idp.example", dynamic_client_registration=OPTIONS
    )
    b = create_builder(config, tmp_path)
    b.set_clock(FakeClock())
    async with running_sql(b) as server:
        registered = await register(server, M2M_CLIENT)
        assert (await cc_token(server, registered)).status_code == 200  # now cached
        body = {"client_id": registered["client_id"], **M2M_CLIENT, "rotate_client_secret": True}
        updated = await manage(server, "PUT", registered, body)
        assert updated.status_code == 200, updated.text
        assert (await manage(server, "GET", registered)).json()["client_name"] == "Job"
        assert (await cc_token(server, registered)).json()["error"] == "invalid_client"
        assert (await cc_token(server, registered, updated.json()["client_secret"])).status_code == 200
        assert (await manage(server, "DELETE", registered)).status_code == 204
        gone = await cc_token(server, registered, updated.json()["client_secret"])
        assert gone.json()["error"] == "invalid_client"
        assert (await manage(server, "GET", registered)).status_code == 401


@pytest.mark.parametrize("query", ["client_id=%ff", "client_id=", "", "client_id=a&client_id=b", "x=" + "a&x=" * 200])
async def test_odd_client_configuration_uris_get_401_not_500(server, query):
    registered = await register(server, CODE_CLIENT)
    for method in ("GET", "PUT", "DELETE"):
        response = await server.client.request(
            method, f"/connect/register?{query}", headers=bearer(registered["registration_access_token"])
        )
        assert response.status_code == 401, (method, response.text)
    assert (await manage(server, "GET", registered)).status_code == 200
