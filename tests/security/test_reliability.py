"""security.md §3, reliability: races made deterministic by running one request inside another's storage call,
storage failures injected into the grant, client and replay stores, and replays across two server instances that
share one SQL database. (R1, R2, R5 and cross-process code races are covered by tests/endpoints/,
tests/dpop/ and tests/storage/test_multi_process.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import httpx

from identityserver.client.dpop import DPoPKey
from identityserver.configuration.host import create_builder
from identityserver.models.grants import PersistedGrant
from identityserver.options import AuthenticationOptions, ServerSideSessionsOptions
from identityserver.stores.protocols import ClientStore, PersistedGrantStore, UserStore
from tests.security.support import bearer, serve, server_with
from tests.support.browser import Browser, code_request, forms, obtain_code, redeem, refresh, sign_in, tokens_for
from tests.support.client_auth import assertion_claims, assertion_form, client_assertion
from tests.support.clock import FakeClock
from tests.support.data import RSA_CLIENT_KEY
from tests.support.data import test_configuration as canonical_configuration
from tests.support.server import basic


class Outage(ConnectionError):
    """What a database driver raises when the database is unreachable."""


class HookedGrantStore:
    """Wraps the persisted-grant store: can run a request right after a grant is taken (a race made deterministic)
    and can fail writes of chosen grant types (a database outage)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.after_take: Callable[[], Awaitable[object]] | None = None
        self.failing_types: set[str] = set()

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    async def take(self, key: str) -> PersistedGrant | None:
        found = await self.inner.take(key)
        if found is not None and self.after_take is not None:
            hook, self.after_take = self.after_take, None
            await hook()
        return found

    async def replace(self, key: str, grant: PersistedGrant, successor: PersistedGrant | None = None) -> bool:
        if {grant.type, successor.type if successor else None} & self.failing_types:
            raise Outage("database unavailable")  # one step: nothing of it happens
        replaced = await self.inner.replace(key, grant, successor)
        if replaced and self.after_take is not None:
            hook, self.after_take = self.after_take, None
            await hook()
        return replaced

    async def store(self, grant: PersistedGrant) -> None:
        if grant.type in self.failing_types:
            raise Outage("database unavailable")
        await self.inner.store(grant)


async def hooked_server(extra_toml: str = "", **options):
    stores: list[HookedGrantStore] = []

    def wrap(inner):
        stores.append(HookedGrantStore(inner))
        return stores[-1]

    return server_with(extra_toml, lambda b: b.decorate(PersistedGrantStore, wrap), **options), stores


# -- R7, R8: revocation and logout racing a refresh -----------------------------------------------------------


async def test_revocation_racing_a_refresh_leaves_no_usable_token_of_the_family():
    """security.md §3.1 R7: revocation racing a refresh leaves no usable token of the family."""
    context, stores = await hooked_server()
    async with context as server:
        tokens = await tokens_for(server.client)
        revoked = []

        async def revoke() -> None:
            revoked.append(
                await server.client.post(
                    "/connect/revocation", data={"token": tokens["refresh_token"]}, headers=basic("web", "secret")
                )
            )

        stores[0].after_take = revoke
        raced = await refresh(server.client, "web", tokens["refresh_token"])
        assert stores[0].after_take is None  # the revocation ran inside the refresh
        assert revoked and revoked[0].status_code == 200
        if raced.status_code == 200:
            successor = raced.json()
            again = await refresh(server.client, "web", successor["refresh_token"])
            assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
            userinfo = await server.client.get("/connect/userinfo", headers=bearer(successor["access_token"]))
            assert userinfo.status_code == 401
        else:  # the refresh lost the race: a clean refusal, never a server error
            assert raced.status_code == 400 and raced.json()["error"] == "invalid_grant", raced.text
        userinfo = await server.client.get("/connect/userinfo", headers=bearer(tokens["access_token"]))
        assert userinfo.status_code == 401  # the grant's access tokens too (RFC 7009 §2.1: jti refused at userinfo)
        original = await refresh(server.client, "web", tokens["refresh_token"])
        assert original.status_code == 400 and original.json()["error"] == "invalid_grant"


COORDINATED_TOML = """
[[clients]]
client_id = "web.coordinated"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["https://web.example/cb"]
allowed_scopes = ["openid", "api1"]
allow_offline_access = true
coordinate_lifetime_with_user_session = true
"""


async def test_logout_racing_a_refresh_leaves_no_usable_token_of_the_session():
    context, stores = await hooked_server(
        COORDINATED_TOML, server_side_sessions=ServerSideSessionsOptions(enabled=True)
    )
    async with context as server:
        tokens = await tokens_for(server.client, "web.coordinated", scope="openid api1 offline_access")

        async def sign_out() -> None:
            page = await Browser(server.client).get(
                "/connect/endsession?" + urlencode({"id_token_hint": tokens["id_token"]})
            )
            assert "You are now signed out" in page.text

        stores[0].after_take = sign_out
        raced = await refresh(server.client, "web.coordinated", tokens["refresh_token"])
        assert stores[0].after_take is None  # the sign-out ran inside the refresh
        if raced.status_code == 200:
            successor = raced.json()
            assert (await refresh(server.client, "web.coordinated", successor["refresh_token"])).status_code == 400
            userinfo = await server.client.get("/connect/userinfo", headers=bearer(successor["access_token"]))
            assert userinfo.status_code == 401
        else:
            assert raced.status_code == 400 and raced.json()["error"] == "invalid_grant"


# -- R9, R10: double submits and an expired session used in parallel -------------------------------------------


async def test_double_submitted_login_and_consent_forms_are_never_a_server_error():
    async with server_with() as server:
        browser = Browser(server.client)
        params, _ = code_request()
        page = await browser.get("/connect/authorize?" + urlencode(params))
        form = forms(page.text)[0]
        data = {**dict(form.fields), "username": "alice", "password": "alice", "button": "login"}
        logins = await asyncio.gather(*(server.client.post(form.action, data=data) for _ in range(2)))
        assert all(r.status_code in (302, 303, 400) for r in logins), [r.status_code for r in logins]
        consent = await browser.follow(logins[0])
        assert "/consent" in str(consent.url)
        form = forms(consent.text)[0]
        data = {**dict(form.fields), "button": "yes", "scopes_consented": "openid"}
        answers = await asyncio.gather(*(server.client.post("/consent", data=data) for _ in range(2)))
        assert all(r.status_code in (302, 303, 400) for r in answers), [r.status_code for r in answers]


async def test_parallel_requests_with_an_expired_server_side_session_are_sent_to_login():
    options = {
        "server_side_sessions": ServerSideSessionsOptions(enabled=True),
        "authentication": AuthenticationOptions(cookie_lifetime=600),
    }
    async with server_with(**options) as server:
        await sign_in(Browser(server.client))
        server.clock.advance(601)
        params, _ = code_request()
        requests = [server.client.get("/connect/authorize?" + urlencode(params)) for _ in range(5)]
        requests += [server.client.get("/grants") for _ in range(5)]
        answers = await asyncio.gather(*requests)
    assert all(r.status_code == 302 for r in answers), [r.status_code for r in answers]
    assert all("/account/login" in r.headers["location"] for r in answers)


# -- F1, F2: the grant store fails in the middle of a redemption ------------------------------------------------


async def test_store_failure_during_code_redemption_issues_nothing_and_answers_server_error():
    context, stores = await hooked_server()
    async with context as server:
        grant = await obtain_code(server.client)
        stores[0].failing_types = {"refresh_token"}
        failed = await redeem(server.client, grant)
        assert failed.status_code == 500 and failed.json() == {"error": "server_error"}
        assert failed.headers["cache-control"] == "no-store"
        stores[0].failing_types = set()
        retry = await redeem(server.client, grant)
    assert retry.status_code == 400 and retry.json()["error"] == "invalid_grant"  # consumed, nothing issued


async def test_store_failure_during_rotation_keeps_the_old_refresh_token_usable():
    """security.md §3.2 F2: a failed rotation never loses the client's refresh token."""
    context, stores = await hooked_server()
    async with context as server:
        tokens = await tokens_for(server.client)
        stores[0].failing_types = {"refresh_token"}
        failed = await refresh(server.client, "web", tokens["refresh_token"])
        assert failed.status_code == 500 and "access_token" not in failed.text
        stores[0].failing_types = set()
        retry = await refresh(server.client, "web", tokens["refresh_token"])
    assert retry.status_code == 200, retry.text


# -- F3: the client store fails ------------------------------------------------------------------------------


class SwitchableStore:
    """Forwards to ``inner``; the methods a subclass defines call ``reachable()`` first, which raises while ``down``."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.down = False

    def reachable(self) -> None:
        if self.down:
            raise Outage("database unavailable")

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


class FailingClientStore(SwitchableStore):
    async def find_client_by_id(self, client_id: str):
        self.reachable()
        return await self.inner.find_client_by_id(client_id)


async def test_client_store_outage_never_redirects_and_answers_server_error():
    stores: list[FailingClientStore] = []

    def wrap(inner):
        stores.append(FailingClientStore(inner))
        return stores[-1]

    async with server_with(configure=lambda b: b.decorate(ClientStore, wrap)) as server:
        await sign_in(Browser(server.client))
        stores[0].down = True
        params, _ = code_request()
        authorize = await server.client.get("/connect/authorize?" + urlencode(params))
        token = await server.token(
            {"grant_type": "client_credentials", "scope": "api1"}, headers=basic("m2m", "secret")
        )
    assert authorize.status_code >= 500 and "location" not in authorize.headers
    assert "Traceback" not in authorize.text
    assert token.status_code == 500 and token.json() == {"error": "server_error"}


class FailingUserStore(SwitchableStore):
    async def validate_credentials(self, username: str, password: str):
        self.reachable()
        return await self.inner.validate_credentials(username, password)

    async def find_by_username(self, username: str):
        self.reachable()
        return await self.inner.find_by_username(username)

    async def find_by_subject_id(self, subject_id: str):
        self.reachable()
        return await self.inner.find_by_subject_id(subject_id)


async def test_user_store_outage_at_login_answers_an_error_page_and_signs_no_one_in():
    """security.md F3 at the login form: the error page (500, the security headers, no detail of the failure, no
    redirect), no session cookie; once the store is back, the same browser signs in."""
    stores: list[FailingUserStore] = []

    def wrap(inner):
        stores.append(FailingUserStore(inner))
        return stores[-1]

    async with server_with(configure=lambda b: b.decorate(UserStore, wrap)) as server:
        # as a server runs it: the exception is re-raised for the server's log after the page was sent
        transport = httpx.ASGITransport(app=server.app, raise_app_exceptions=False, client=("203.0.113.9", 50002))
        async with httpx.AsyncClient(transport=transport, base_url=server.issuer) as http:
            browser = Browser(http)
            params, _ = code_request()
            page = await browser.get("/connect/authorize?" + urlencode(params))
            form = forms(page.text)[0]
            stores[0].down = True
            data = {**dict(form.fields), "username": "alice", "password": "alice", "button": "login"}
            failed = await http.post(form.action, data=data)
            assert failed.status_code == 500 and "location" not in failed.headers, failed.status_code
            assert "server_error" in failed.text and "Something went wrong" in failed.text
            assert "Traceback" not in failed.text and "database unavailable" not in failed.text
            assert "frame-ancestors 'none'" in failed.headers["content-security-policy"]
            assert failed.headers["cache-control"] == "no-store"
            assert not any("session" in c.lower() for c in failed.headers.get_list("set-cookie"))
            stores[0].down = False
            page = await browser.get("/connect/authorize?" + urlencode(params))
            signed_in = await browser.login(page, "alice", "alice")
            assert signed_in.status_code == 200 and "/consent" in str(signed_in.url), signed_in.url  # signed in


# -- F4: the replay cache fails closed ----------------------------------------------------------------------------


class FailingReplayCache:
    async def add(self, purpose: str, handle: str, lifetime_seconds: float) -> bool:
        raise Outage("replay cache unavailable")


async def test_replay_cache_outage_fails_dpop_and_client_assertions_closed():
    async def attempts(server) -> list:
        key = DPoPKey.generate(clock=server.clock)
        dpop = await server.token(
            {"grant_type": "client_credentials", "scope": "api1"},
            headers={**basic("m2m", "secret"), "DPoP": key.create_proof("POST", f"{server.issuer}/connect/token")},
        )
        assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server), {"kid": "rsa1"})
        return [dpop, await server.token(assertion_form(assertion))]

    async with server_with() as server:  # the control: the same requests pass with a working cache
        assert [r.status_code for r in await attempts(server)] == [200, 200]
    async with server_with(configure=lambda b: b.add_replay_cache(FailingReplayCache())) as server:
        failed = await attempts(server)
    for response in failed:  # security.md F4: closed, as the server's own failure, never as accepted
        assert response.status_code == 500 and response.json()["error"] == "server_error", response.text
        assert "access_token" not in response.text and "Traceback" not in response.text


# -- M1, M3: replays across two server instances sharing one database ---------------------------------------------


async def test_dpop_proof_and_client_assertion_replayed_on_another_node_are_refused(tmp_path):
    config = canonical_configuration()
    first = create_builder(config, tmp_path, issuer_uri="https://idp.example")
    first.set_clock(FakeClock())
    second = create_builder(config, tmp_path, issuer_uri="https://idp.example")
    second.set_clock(FakeClock())
    async with serve(first) as node_a, serve(second) as node_b:
        key = DPoPKey.generate(clock=node_a.clock)
        proof = key.create_proof("POST", "https://idp.example/connect/token")
        form = {"grant_type": "client_credentials", "scope": "api1"}
        accepted = await node_a.token(form, headers={**basic("m2m", "secret"), "DPoP": proof})
        assert accepted.status_code == 200, accepted.text
        replayed = await node_b.token(form, headers={**basic("m2m", "secret"), "DPoP": proof})
        assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_dpop_proof"
        assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(node_a), {"kid": "rsa1"})
        assert (await node_a.token(assertion_form(assertion))).status_code == 200
        again = await node_b.token(assertion_form(assertion))
        assert again.status_code in (400, 401) and again.json()["error"] == "invalid_client"
        for path in ("/.well-known/openid-configuration", "/.well-known/openid-configuration/jwks"):
            assert (await node_a.client.get(path)).content == (await node_b.client.get(path)).content  # M7


async def test_login_throttling_holds_across_nodes_sharing_a_database(tmp_path):
    """security.md §3.3 M9: login throttling is shared by the nodes of one database."""
    config = canonical_configuration()
    first = create_builder(config, tmp_path, issuer_uri="https://idp.example")
    first.set_clock(FakeClock())
    second = create_builder(config, tmp_path, issuer_uri="https://idp.example")
    second.set_clock(FakeClock())
    async with serve(first) as node_a, serve(second) as node_b:
        browser_a = Browser(node_a.client)
        for attempt in range(6):
            page = await browser_a.login(await browser_a.get("/account/login"), "alice", f"guess-{attempt}")
        assert page.status_code == 429  # node A blocks the pair
        browser_b = Browser(node_b.client)
        page = await browser_b.login(await browser_b.get("/account/login"), "alice", "alice")
    assert page.status_code == 429 and "Signed in as" not in page.text
