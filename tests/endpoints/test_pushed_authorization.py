"""Pushed authorization requests (RFC 9126) over HTTP: ``/connect/par`` validates like the authorize endpoint and
answers ``201 {request_uri, expires_in}``; the reference is one-time, bound to its client and expires; a client (or
the server) can require PAR; request objects and DPoP work through it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from identityserver.client.dpop import DPoPKey
from identityserver.configuration.errors import ConfigError
from identityserver.crypto.jwk import public_jwk
from identityserver.models.grants import PersistedGrantFilter
from identityserver.options import IdentityServerOptions, PersistentGrantOptions, PushedAuthorizationOptions
from identityserver.validation.protocols import CustomAuthorizeRequestValidationContext
from tests.support.browser import (
    Browser,
    code_request,
    is_consent_page,
    is_login_page,
    pkce_pair,
    redirect_parameters,
    sign_in,
)
from tests.support.client_auth import client_assertion
from tests.support.concurrency import interleaving
from tests.support.data import EC_CLIENT_KEY, RSA_CLIENT_KEY
from tests.support.data import test_configuration as configuration
from tests.support.server import Server, basic, make_builder, running

PAR_CB = "https://par.example/cb"
JWK = json.dumps({**public_jwk(RSA_CLIENT_KEY), "kid": "rsa1"})
PAR_TOML = f"""
[[clients]]
client_id = "par.web"
client_secrets = ["secret", {{ type = "JWK", value = '{JWK}' }}]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{PAR_CB}"]
allowed_scopes = ["openid", "api1"]
require_pushed_authorization = true

[[clients]]
client_id = "par.jar"
client_secrets = ["secret", {{ type = "JWK", value = '{JWK}' }}]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{PAR_CB}"]
allowed_scopes = ["openid", "api1"]
require_request_object = true

[[clients]]
client_id = "par.nonce"
client_secrets = ["secret"]
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{PAR_CB}"]
allowed_scopes = ["openid", "api1"]
dpop_validation_mode = ["nonce"]

[[clients]]
client_id = "par.public"
require_client_secret = false
allowed_grant_types = ["authorization_code"]
redirect_uris = ["{PAR_CB}"]
allowed_scopes = ["openid", "api1"]
allowed_cors_origins = ["https://spa.example"]
"""


class Recorder:
    """A custom authorize validator that records what the pipeline saw (``pushed_authorization``)."""

    def __init__(self) -> None:
        self.pushed: list[bool] = []

    async def validate(self, context: CustomAuthorizeRequestValidationContext) -> None:
        self.pushed.append(context.result.validated_request.pushed_authorization)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with running(make_builder(configuration(PAR_TOML))) as server:
        yield server


async def push(
    server: Server, data: dict[str, str], client_id: str | None = "par.web", **headers: str
) -> httpx.Response:
    auth = basic(client_id, "secret") if client_id else {}
    return await server.client.post("/connect/par", data=data, headers={**auth, **headers})


def par_request(client_id: str = "par.web", **extra: str) -> tuple[dict[str, str], str]:
    params, verifier = code_request(client_id, PAR_CB, "openid api1")
    params.update(extra)
    return params, verifier


async def pushed_uri(server: Server, data: dict[str, str], client_id: str = "par.web") -> str:
    response = await push(server, data, client_id)
    assert response.status_code == 201, response.text
    request_uri: str = response.json()["request_uri"]
    return request_uri


async def signed_in(server: Server) -> Browser:
    browser = Browser(server.client)
    assert (await sign_in(browser)).status_code == 200
    return browser


async def authorize(browser: Browser, client_id: str, request_uri: str) -> httpx.Response:
    return await browser.client.get("/connect/authorize", params={"client_id": client_id, "request_uri": request_uri})


async def error_page(server: Server, response: httpx.Response) -> str:
    """The response sends the user to this server's error page, never to the client; the page text."""
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith("/home/error?"), location
    page = await server.client.get(location)
    assert page.status_code == 400
    return page.text


async def redeem(
    server: Server, code: str, verifier: str, client_id: str = "par.web", **headers: str
) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": PAR_CB, "code_verifier": verifier}
    return await server.token(data, headers={**basic(client_id, "secret"), **headers})


def jar(server: Server, sender: str, **overrides: Any) -> str:
    _, challenge = pkce_pair()
    now = int(server.clock.timestamp())
    claims: dict[str, Any] = {
        "iss": sender,
        "aud": server.issuer,
        "exp": now + 60,
        "nbf": now,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "client_id": sender,
        "response_type": "code",
        "redirect_uri": PAR_CB,
        "scope": "openid api1",
        "state": "from-object",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    key = overrides.pop("key", RSA_CLIENT_KEY)
    alg = overrides.pop("alg", "RS256")
    claims.update(overrides)
    return client_assertion(key, alg, {k: v for k, v in claims.items() if v is not ...}, {"kid": "rsa1"})


# -- the endpoint and discovery -----------------------------------------------------------------------------------


async def test_discovery_advertises_par_and_what_is_required(server):
    doc = (await server.client.get("/.well-known/openid-configuration")).json()
    assert doc["pushed_authorization_request_endpoint"] == "https://idp.example/connect/par"
    assert doc["require_pushed_authorization_requests"] is False
    assert doc["request_uri_parameter_supported"] is False
    options = configuration().options
    options = dataclasses.replace(
        options,
        pushed_authorization=PushedAuthorizationOptions(required=True),
        endpoints=dataclasses.replace(options.endpoints, enable_jwt_request_uri=True),
    )
    async with running(make_builder(configuration(PAR_TOML), options=options)) as strict:
        doc = (await strict.client.get("/.well-known/openid-configuration")).json()
    assert doc["require_pushed_authorization_requests"] is True
    assert doc["request_uri_parameter_supported"] is True


async def test_disabled_endpoint_is_neither_routed_nor_advertised():
    options = configuration().options
    options = dataclasses.replace(
        options, endpoints=dataclasses.replace(options.endpoints, enable_pushed_authorization_endpoint=False)
    )
    async with running(make_builder(configuration(PAR_TOML), options=options)) as server:
        doc = (await server.client.get("/.well-known/openid-configuration")).json()
        assert "pushed_authorization_request_endpoint" not in doc
        assert (await push(server, par_request()[0])).status_code == 404


async def test_push_answers_201_with_a_one_time_urn_and_its_lifetime(server):
    params, _ = par_request()
    response = await push(server, params)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert body["expires_in"] == 60
    assert response.headers["cache-control"] == "no-store"


async def test_only_post_with_a_form_is_accepted(server):
    assert (await server.client.get("/connect/par")).status_code == 405
    response = await server.client.post(
        "/connect/par", json={"client_id": "par.web"}, headers=basic("par.web", "secret")
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_the_client_must_authenticate(server):
    params, _ = par_request()
    wrong = await server.client.post("/connect/par", data=params, headers=basic("par.web", "wrong"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    anonymous = await server.client.post("/connect/par", data=params)
    assert anonymous.status_code in (400, 401) and anonymous.json()["error"] == "invalid_client"


async def test_browser_clients_may_push_from_their_registered_origin(server):
    preflight = {"Origin": "https://spa.example", "Access-Control-Request-Method": "POST"}
    allowed = await server.client.options("/connect/par", headers=preflight)
    assert allowed.status_code == 204 and allowed.headers["access-control-allow-origin"] == "https://spa.example"
    refused = await server.client.options("/connect/par", headers={**preflight, "Origin": "https://evil.example"})
    assert refused.status_code == 403
    params, _ = par_request("par.public")
    pushed = await server.client.post("/connect/par", data=params, headers={"Origin": "https://spa.example"})
    assert pushed.status_code == 201 and pushed.headers["access-control-allow-origin"] == "https://spa.example"


async def test_public_client_pushes_with_its_client_id(server):
    params, verifier = par_request("par.public")
    request_uri = await pushed_uri(server, params, client_id="")
    browser = await signed_in(server)
    returned = redirect_parameters(await authorize(browser, "par.public", request_uri))
    token = await server.token(
        {
            "grant_type": "authorization_code",
            "code": returned["code"],
            "redirect_uri": PAR_CB,
            "code_verifier": verifier,
            "client_id": "par.public",
        }
    )
    assert token.status_code == 200, token.text


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"request_uri": "urn:ietf:params:oauth:request_uri:abc"}, "invalid_request"),
        ({"client_id": "par.public"}, "invalid_request"),
        ({"redirect_uri": "https://attacker.example/cb"}, "invalid_request"),
        ({"scope": "openid unknown"}, "invalid_scope"),
        ({"response_type": "code unknown"}, "unsupported_response_type"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"response_type": "code", "max_age": "-1"}, "invalid_request"),
    ],
)
async def test_push_is_validated_like_the_authorize_request_and_stores_nothing(server, change, error):
    params, _ = par_request(**change)
    response = await push(server, params)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error
    assert "request_uri" not in response.json()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe=\x00",
        b"client_id=par.web&request=not-a-jwt",
        b"client_id=par.web&request=a.b.c",
        b"client_id=par.web&request=" + b"e30." * 10 + b"x",
        b"client_id=%00&response_type=code",
        b"resource=&resource=http://x&client_id=par.web",
        b"client_id=par.web&dpop_jkt=",
        b"&&&===&&",
    ],
)
async def test_garbage_is_answered_with_a_client_error_and_nothing_stored(server, body):
    headers = {**basic("par.web", "secret"), "Content-Type": "application/x-www-form-urlencoded"}
    response = await server.client.post("/connect/par", content=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert "request_uri" not in response.text


async def test_a_repeated_parameter_is_refused(server):
    params, _ = par_request()
    form = [*params.items(), ("state", "again")]
    response = await server.client.post(
        "/connect/par",
        content=httpx.QueryParams(form).__str__(),
        headers={**basic("par.web", "secret"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_client_authentication_is_not_kept_with_the_pushed_request():
    options = dataclasses.replace(
        configuration().options, persisted_grants=PersistentGrantOptions(data_protect_data=False)
    )
    async with running(make_builder(configuration(PAR_TOML), options=options)) as server:
        params, _ = par_request()
        response = await server.client.post("/connect/par", data={**params, "client_secret": "secret"})
        assert response.status_code == 201, response.text
        rows = await server.services.persisted_grants.get_all(PersistedGrantFilter(client_id="par.web"))
        assert [row.type for row in rows] == ["pushed_authorization_request"]
        stored = json.loads(json.loads(rows[0].data)["Payload"])
        assert stored["parameters"]["state"] == params["state"]
        assert "client_secret" not in stored["parameters"]


# -- the authorize endpoint -----------------------------------------------------------------------------------------


async def test_pushed_request_completes_a_code_flow_and_reaches_the_pipeline_as_pushed():
    recorder = Recorder()
    builder = make_builder(configuration(PAR_TOML)).add_custom_authorize_request_validator(recorder)
    async with running(builder) as server:
        params, verifier = par_request(state="pushed-state")
        request_uri = await pushed_uri(server, params)
        assert recorder.pushed == [True]  # the push itself runs the pipeline as a pushed request
        browser = await signed_in(server)
        response = await authorize(browser, "par.web", request_uri)
        assert response.headers["location"].startswith(PAR_CB + "?"), response.headers["location"]
        returned = redirect_parameters(response)
        assert returned["state"] == "pushed-state" and returned["iss"] == server.issuer
        assert recorder.pushed == [True, True]
        token = await redeem(server, returned["code"], verifier)
        assert token.status_code == 200, token.text


async def test_parameters_sent_beside_the_reference_are_ignored(server):
    params, _ = par_request(state="pushed")
    request_uri = await pushed_uri(server, params)
    browser = await signed_in(server)
    response = await browser.client.get(
        "/connect/authorize",
        params={
            "client_id": "par.web",
            "request_uri": request_uri,
            "state": "outside",
            "redirect_uri": "https://x.example",
        },
    )
    returned = redirect_parameters(response)
    assert response.headers["location"].startswith(PAR_CB) and returned["state"] == "pushed"


async def test_pushed_request_survives_login_and_consent_with_one_time_references(server):
    params, verifier = code_request("web", "https://web.example/cb", "openid profile api1")
    response = await server.client.post("/connect/par", data=params, headers=basic("web", "secret"))
    request_uri = response.json()["request_uri"]
    browser = Browser(server.client)
    page = await browser.get("/connect/authorize?" + str(httpx.QueryParams(client_id="web", request_uri=request_uri)))
    assert is_login_page(page)
    page = await browser.login(page, "alice", "alice")
    assert is_consent_page(page), page.text[:300]
    page = await browser.submit(page, {"button": "yes", "scopes_consented": ["openid", "profile", "api1"]})
    assert page.status_code == 302 and page.headers["location"].startswith("https://web.example/cb?")
    code = redirect_parameters(page)["code"]
    token = await server.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://web.example/cb",
            "code_verifier": verifier,
        },
        headers=basic("web", "secret"),
    )
    assert token.status_code == 200, token.text
    # the pushed reference was taken when first used
    assert "invalid_request_uri" in await error_page(server, await authorize(browser, "web", request_uri))


async def test_prompt_login_through_par_signs_in_again_and_completes(server):
    params, verifier = par_request(prompt="login")
    request_uri = await pushed_uri(server, params)
    browser = await signed_in(server)
    page = await browser.get(
        "/connect/authorize?" + str(httpx.QueryParams(client_id="par.web", request_uri=request_uri))
    )
    assert is_login_page(page)
    page = await browser.login(page, "alice", "alice")
    assert page.status_code == 302 and page.headers["location"].startswith(PAR_CB), page.headers.get("location")
    token = await redeem(server, redirect_parameters(page)["code"], verifier)
    assert token.status_code == 200, token.text


async def test_reused_request_uri_is_refused(server):
    params, _ = par_request()
    request_uri = await pushed_uri(server, params)
    browser = await signed_in(server)
    first = await authorize(browser, "par.web", request_uri)
    assert "code" in redirect_parameters(first)
    assert "invalid_request_uri" in await error_page(server, await authorize(browser, "par.web", request_uri))


async def test_parallel_uses_of_one_request_uri_issue_one_code():
    async with running(interleaving(make_builder(configuration(PAR_TOML)))) as server:
        params, _ = par_request()
        request_uri = await pushed_uri(server, params)
        browser = await signed_in(server)
        responses = await asyncio.gather(*(authorize(browser, "par.web", request_uri) for _ in range(4)))
        codes = [r for r in responses if r.headers["location"].startswith(PAR_CB)]
        assert len(codes) == 1, [r.headers["location"] for r in responses]


async def test_expired_request_uri_is_refused(server):
    params, _ = par_request()
    request_uri = await pushed_uri(server, params)
    browser = await signed_in(server)
    server.clock.advance(61)
    assert "invalid_request_uri" in await error_page(server, await authorize(browser, "par.web", request_uri))


async def test_request_uri_of_another_client_is_refused_and_stays_usable(server):
    params, _ = par_request()
    request_uri = await pushed_uri(server, params)
    browser = await signed_in(server)
    text = await error_page(server, await authorize(browser, "par.public", request_uri))
    assert "invalid_request_uri" in text
    assert "code" in redirect_parameters(await authorize(browser, "par.web", request_uri))


async def test_unknown_or_malformed_urn_is_refused(server):
    browser = await signed_in(server)
    for request_uri in ("urn:ietf:params:oauth:request_uri:", "urn:ietf:params:oauth:request_uri:nope", "urn:x" * 200):
        text = await error_page(server, await authorize(browser, "par.web", request_uri))
        assert "invalid_request_uri" in text or "request_uri_not_supported" in text


async def test_client_that_requires_par_cannot_use_the_front_channel(server):
    params, _ = par_request()
    browser = await signed_in(server)
    response = await browser.client.get("/connect/authorize", params=params)
    text = await error_page(server, response)
    assert "invalid_request" in text and "pushed authorization" in text


async def test_global_option_requires_par_for_every_client():
    options = dataclasses.replace(
        configuration().options, pushed_authorization=PushedAuthorizationOptions(required=True, lifetime=90)
    )
    async with running(make_builder(configuration(PAR_TOML), options=options)) as server:
        params, _ = par_request("par.public")
        browser = await signed_in(server)
        assert "pushed authorization" in await error_page(
            server, await browser.client.get("/connect/authorize", params=params)
        )
        response = await server.client.post("/connect/par", data=params)
        assert response.status_code == 201 and response.json()["expires_in"] == 90
        assert "code" in redirect_parameters(await authorize(browser, "par.public", response.json()["request_uri"]))


# -- request objects through PAR (RFC 9126 §3) ----------------------------------------------------------------------


async def test_request_object_is_pushed_and_its_parameters_used(server):
    request_uri = await pushed_uri(server, {"client_id": "par.jar", "request": jar(server, "par.jar")}, "par.jar")
    browser = await signed_in(server)
    returned = redirect_parameters(await authorize(browser, "par.jar", request_uri))
    assert "code" in returned and returned["state"] == "from-object"


async def test_client_that_requires_request_objects_cannot_push_plain_parameters(server):
    params, _ = par_request("par.jar")
    response = await push(server, params, "par.jar")
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_parameters_outside_a_required_request_object_are_refused(server):
    data = {"client_id": "par.jar", "request": jar(server, "par.jar"), "login_hint": "mallory"}
    response = await push(server, data, "par.jar")
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert "login_hint" in response.json()["error_description"]


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "not_yet_valid",
        "no_exp",
        "exp_too_far",
        "wrong_key",
        "wrong_aud",
        "wrong_iss",
        "alg_none",
        "oversize",
        "client_id_mismatch",
        "nested_request_uri",
    ],
)
async def test_bad_request_objects_are_refused_at_push(server, case):
    now = int(server.clock.timestamp())
    overrides: dict[str, Any] = {
        "expired": {"exp": now - 400},
        "not_yet_valid": {"nbf": now + 400},
        "no_exp": {"exp": ...},
        "exp_too_far": {"exp": now + 86400},
        "wrong_key": {"key": EC_CLIENT_KEY, "alg": "ES256"},
        "wrong_aud": {"aud": "https://other.example"},
        "wrong_iss": {"iss": "par.web"},
        "oversize": {"padding": "x" * 40000},
        "client_id_mismatch": {"client_id": "par.web"},
        "nested_request_uri": {"request_uri": "https://par.example/r"},
    }.get(case, {})
    if case == "alg_none":
        header = json.dumps({"alg": "none"}).encode()
        body = json.dumps({"iss": "par.jar", "aud": server.issuer, "exp": now + 60, "client_id": "par.jar"}).encode()
        import base64

        request = ".".join(base64.urlsafe_b64encode(p).rstrip(b"=").decode() for p in (header, body)) + "."
    else:
        request = jar(server, "par.jar", **overrides)
    response = await push(server, {"client_id": "par.jar", "request": request}, "par.jar")
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request_object", response.json()


async def test_replayed_request_object_is_refused(server):
    request = jar(server, "par.jar")
    assert (await push(server, {"client_id": "par.jar", "request": request}, "par.jar")).status_code == 201
    again = await push(server, {"client_id": "par.jar", "request": request}, "par.jar")
    assert again.status_code == 400 and again.json()["error"] == "invalid_request_object"
    assert "jti" in again.json()["error_description"]


async def test_replayed_request_object_by_value_is_refused_at_the_authorize_endpoint(server):
    browser = await signed_in(server)
    query = httpx.QueryParams(client_id="par.jar", request=jar(server, "par.jar"))
    first = await browser.client.get(f"/connect/authorize?{query}")
    assert first.headers["location"].startswith(PAR_CB), first.headers["location"]
    text = await error_page(server, await browser.client.get(f"/connect/authorize?{query}"))
    assert "invalid_request_object" in text and "jti" in text


async def test_request_object_by_value_with_jti_survives_login(server):
    """A request object's jti is recorded once; the login round trip resumes by a one-time reference."""
    browser = Browser(server.client)
    query = httpx.QueryParams(client_id="par.jar", request=jar(server, "par.jar"))
    page = await browser.get(f"/connect/authorize?{query}")
    assert is_login_page(page)
    page = await browser.login(page, "alice", "alice")
    assert page.status_code == 302 and page.headers["location"].startswith(PAR_CB), page.headers.get("location")
    assert redirect_parameters(page)["state"] == "from-object"


# -- DPoP at PAR (RFC 9449 §10.1) ------------------------------------------------------------------------------------


async def test_dpop_proof_at_par_binds_the_code_to_its_key(server):
    key = DPoPKey.generate("ES256", clock=server.clock)
    params, verifier = par_request()
    response = await push(server, params, DPoP=key.create_proof("POST", "https://idp.example/connect/par"))
    assert response.status_code == 201, response.text
    browser = await signed_in(server)
    code = redirect_parameters(await authorize(browser, "par.web", response.json()["request_uri"]))["code"]
    unbound = await redeem(server, code, verifier)
    assert unbound.status_code == 400, unbound.text
    params, verifier = par_request()
    response = await push(server, params, DPoP=key.create_proof("POST", "https://idp.example/connect/par"))
    code = redirect_parameters(await authorize(browser, "par.web", response.json()["request_uri"]))["code"]
    other = DPoPKey.generate("ES256", clock=server.clock)
    wrong = await redeem(server, code, verifier, DPoP=other.create_proof("POST", "https://idp.example/connect/token"))
    assert wrong.status_code == 400, wrong.text
    params, verifier = par_request()
    response = await push(server, params, DPoP=key.create_proof("POST", "https://idp.example/connect/par"))
    code = redirect_parameters(await authorize(browser, "par.web", response.json()["request_uri"]))["code"]
    bound = await redeem(server, code, verifier, DPoP=key.create_proof("POST", "https://idp.example/connect/token"))
    assert bound.status_code == 200, bound.text
    assert bound.json()["token_type"] == "DPoP"


async def test_dpop_jkt_at_par_binds_the_code(server):
    key = DPoPKey.generate("ES256", clock=server.clock)
    params, verifier = par_request(dpop_jkt=key.thumbprint)
    request_uri = await pushed_uri(server, params)
    browser = await signed_in(server)
    code = redirect_parameters(await authorize(browser, "par.web", request_uri))["code"]
    bound = await redeem(server, code, verifier, DPoP=key.create_proof("POST", "https://idp.example/connect/token"))
    assert bound.status_code == 200 and bound.json()["token_type"] == "DPoP", bound.text


async def test_dpop_jkt_that_differs_from_the_proof_key_is_refused(server):
    key, other = DPoPKey.generate("ES256", clock=server.clock), DPoPKey.generate("ES256", clock=server.clock)
    params, _ = par_request(dpop_jkt=other.thumbprint)
    response = await push(server, params, DPoP=key.create_proof("POST", "https://idp.example/connect/par"))
    assert response.status_code == 400 and response.json()["error"] == "invalid_dpop_proof"


async def test_dpop_nonce_challenge_at_par_is_answered_with_a_nonce(server):
    key = DPoPKey.generate("ES256", clock=server.clock)
    params, _ = par_request("par.nonce")
    url = "https://idp.example/connect/par"
    challenged = await push(server, params, "par.nonce", DPoP=key.create_proof("POST", url))
    assert challenged.status_code == 400 and challenged.json()["error"] == "use_dpop_nonce"
    nonce = challenged.headers["dpop-nonce"]
    pushed = await push(server, params, "par.nonce", DPoP=key.create_proof("POST", url, nonce=nonce))
    assert pushed.status_code == 201, pushed.text


async def test_invalid_dpop_proof_at_par_is_refused(server):
    key = DPoPKey.generate("ES256", clock=server.clock)
    params, _ = par_request()
    response = await push(server, params, DPoP=key.create_proof("POST", "https://idp.example/connect/token"))
    assert response.status_code == 400 and response.json()["error"] == "invalid_dpop_proof"


@pytest.mark.parametrize("field", ["lifetime", "interaction_lifetime"])
def test_lifetimes_must_be_positive(field):
    with pytest.raises(ConfigError, match=field):
        configuration(f"[options.pushed_authorization]\n{field} = 0\n")


def test_client_settings_are_read_from_the_configuration():
    config = configuration(PAR_TOML + '[[clients]]\nclient_id = "ref"\nrequest_uris = ["https://ref.example/r"]\n')
    clients = {c.client_id: c for c in config.clients}
    assert clients["par.web"].require_pushed_authorization is True
    assert clients["web"].require_pushed_authorization is False
    assert clients["ref"].request_uris == ["https://ref.example/r"]


def test_options_default_to_sixty_seconds_and_not_required():
    options = IdentityServerOptions()
    assert options.pushed_authorization.lifetime == 60
    assert options.pushed_authorization.required is False
    assert options.endpoints.enable_jwt_request_uri is False
