"""Client authentication at the token endpoint: ``client_secret_basic``, ``client_secret_post``, the registered
``token_endpoint_auth_method`` (RFC 6749 §2.3, §5.2; duende §1.3; security.md 1.6 items 73-80)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from identityserver.crypto.hashing import sha512_base64
from identityserver.events import ClientAuthenticationFailureEvent, ClientAuthenticationSuccessEvent
from identityserver.models.client import Client, Secret
from identityserver.options import InputLengthRestrictions
from identityserver.validation.client_secrets.parsers import parse_basic_authorization
from identityserver.validation.results import ParsedSecret
from tests.support.client_auth import (
    RecordingEventSink,
    all_events,
    assertion_claims,
    assertion_form,
    client_assertion,
    configuration,
    form_basic,
)
from tests.support.clock import FakeClock
from tests.support.data import RSA_CLIENT_KEY
from tests.support.quick import quick_builder
from tests.support.server import Server, basic, running

CC = {"grant_type": "client_credentials", "scope": "api1"}

SPECIAL_ID = "svc:a%b+c d"
SPECIAL_SECRET = "p@ss:w%rd+ x/\u00e9&="

TOML = f"""
[[clients]]
client_id = "{SPECIAL_ID}"
client_secrets = ["{SPECIAL_SECRET}"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "spaced"
client_secrets = ["a b"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "rotating"
client_secrets = [{{ value = "old", expiration = 2020-01-01T00:00:00Z }}, "new"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "basic.only"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]
token_endpoint_auth_method = "client_secret_basic"

[[api_scopes]]
name = "api1"

[[api_resources]]
name = "urn:api1"
scopes = ["api1"]
"""


def raw_basic(text: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(text.encode()).decode()}


@pytest.fixture
async def special() -> AsyncIterator[Server]:
    async with running(await quick_builder(configuration(TOML))) as srv:
        yield srv


def assert_invalid_client(response, *, challenge: bool) -> None:
    assert response.json()["error"] == "invalid_client"
    if challenge:
        # RFC 6749 §5.2: the Authorization header was used, so 401 with a challenge for its scheme
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Basic")
    else:
        assert response.status_code in (400, 401)
    assert "access_token" not in response.json()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with running(await quick_builder()) as srv:
        yield srv


async def test_client_secret_basic_is_accepted(server):
    response = await server.token(CC, headers=basic("m2m", "secret"))
    assert response.status_code == 200
    assert response.json()["access_token"]


async def test_client_secret_post_is_accepted(server):
    response = await server.token({**CC, "client_id": "m2m", "client_secret": "secret"})
    assert response.status_code == 200


async def test_basic_scheme_name_is_case_insensitive(server):
    header = basic("m2m", "secret")["Authorization"].replace("Basic", "bAsIc")
    response = await server.token(CC, headers={"Authorization": header})
    assert response.status_code == 200


async def test_basic_credentials_are_form_decoded_per_rfc_6749_section_2_3_1(special):
    response = await special.token(CC, headers=form_basic(SPECIAL_ID, SPECIAL_SECRET))
    assert response.status_code == 200, response.text


async def test_plus_in_basic_credentials_decodes_to_a_space(special):
    response = await special.token(CC, headers=raw_basic("spaced:a+b"))
    assert response.status_code == 200


async def test_basic_credentials_of_a_colon_id_without_form_encoding_are_refused(special):
    # the first unencoded ':' ends the client id, so "svc" is looked up (and does not exist)
    response = await special.token(CC, headers=raw_basic(f"{SPECIAL_ID}:{SPECIAL_SECRET}"))
    assert_invalid_client(response, challenge=True)


async def test_post_credentials_with_special_characters_are_accepted(special):
    response = await special.token({**CC, "client_id": SPECIAL_ID, "client_secret": SPECIAL_SECRET})
    assert response.status_code == 200


async def test_basic_and_client_secret_in_the_body_is_invalid_request(server):
    response = await server.token({**CC, "client_secret": "secret"}, headers=basic("m2m", "secret"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_basic_and_client_assertion_is_invalid_request(server):
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server))
    response = await server.token(
        {**CC, **assertion_form(assertion), "scope": "api1"}, headers=basic("m2m.jwt", "secret")
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_client_secret_and_client_assertion_in_the_body_is_invalid_request(server):
    assertion = client_assertion(RSA_CLIENT_KEY, "RS256", assertion_claims(server))
    form = assertion_form(assertion, client_id="m2m.jwt", client_secret="secret", scope="api1")
    response = await server.token(form)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_body_client_id_other_than_the_basic_client_is_invalid_request(server):
    response = await server.token({**CC, "client_id": "m2m.post"}, headers=basic("m2m", "secret"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_body_client_id_equal_to_the_basic_client_is_accepted(server):
    response = await server.token({**CC, "client_id": "m2m"}, headers=basic("m2m", "secret"))
    assert response.status_code == 200


async def test_unknown_client_with_basic_is_401_with_a_basic_challenge(server):
    response = await server.token(CC, headers=basic("nobody", "secret"))
    assert_invalid_client(response, challenge=True)


async def test_unknown_client_with_post_is_invalid_client(server):
    response = await server.token({**CC, "client_id": "nobody", "client_secret": "secret"})
    assert_invalid_client(response, challenge=False)


async def test_disabled_client_is_invalid_client(server):
    response = await server.token(CC, headers=basic("m2m.disabled", "secret"))
    assert_invalid_client(response, challenge=True)


async def test_wrong_secret_with_basic_is_401_with_a_basic_challenge(server):
    response = await server.token(CC, headers=basic("m2m", "wrong"))
    assert_invalid_client(response, challenge=True)


async def test_wrong_secret_with_post_is_invalid_client(server):
    response = await server.token({**CC, "client_id": "m2m", "client_secret": "wrong"})
    assert_invalid_client(response, challenge=False)


@pytest.mark.parametrize("secret", ["", "secret ", "SECRET", "secre"])
async def test_near_miss_secrets_are_refused(server, secret):
    response = await server.token(CC, headers=basic("m2m", secret))
    assert_invalid_client(response, challenge=True)


async def test_unknown_client_disabled_client_and_wrong_secret_answer_identically(server):
    """Responses must not reveal which client ids exist (RFC 6819 §5.1.4.1, security.md item 80)."""
    answers = [
        await server.token(CC, headers=basic("nobody", "secret")),
        await server.token(CC, headers=basic("m2m.disabled", "secret")),
        await server.token(CC, headers=basic("m2m", "wrong")),
        await server.token(CC, headers=basic("m2m.post", "secret")),  # registered for another method
    ]
    assert {(r.status_code, r.content) for r in answers} == {(answers[0].status_code, answers[0].content)}


async def test_expired_secret_is_refused(server):
    response = await server.token(CC, headers=basic("m2m.expired", "secret"))
    assert_invalid_client(response, challenge=True)


async def test_expired_secret_is_refused_while_the_unexpired_one_works(special):
    assert_invalid_client(await special.token(CC, headers=basic("rotating", "old")), challenge=True)
    assert (await special.token(CC, headers=basic("rotating", "new"))).status_code == 200


async def test_secret_expires_when_the_clock_passes_its_expiration():
    clock = FakeClock()
    client = Client(
        "soon",
        client_secrets=[Secret(sha512_base64("s"), expiration=clock.now + timedelta(hours=1))],
        allowed_grant_types=["client_credentials"],
        allowed_scopes=["api1"],
    )
    builder = await quick_builder(clock=clock)
    builder.add_in_memory_clients([client])
    async with running(builder) as srv:
        assert (await srv.token(CC, headers=basic("soon", "s"))).status_code == 200
        srv.clock.advance(hours=2)
        assert_invalid_client(await srv.token(CC, headers=basic("soon", "s")), challenge=True)


async def test_secret_stored_as_sha512_is_accepted():
    client = Client(
        "sha512",
        client_secrets=[Secret(sha512_base64("long secret"))],
        allowed_grant_types=["client_credentials"],
        allowed_scopes=["api1"],
    )
    builder = await quick_builder()
    builder.add_in_memory_clients([client])
    async with running(builder) as srv:
        assert (await srv.token(CC, headers=basic("sha512", "long secret"))).status_code == 200
        assert_invalid_client(await srv.token(CC, headers=basic("sha512", "long secreT")), challenge=True)


async def test_client_registered_for_post_cannot_use_basic(server):
    response = await server.token(CC, headers=basic("m2m.post", "secret"))
    assert_invalid_client(response, challenge=True)
    assert (await server.token({**CC, "client_id": "m2m.post", "client_secret": "secret"})).status_code == 200


async def test_client_registered_for_basic_cannot_use_post(special):
    response = await special.token({**CC, "client_id": "basic.only", "client_secret": "secret"})
    assert_invalid_client(response, challenge=False)
    assert (await special.token(CC, headers=basic("basic.only", "secret"))).status_code == 200


async def test_client_registered_for_private_key_jwt_cannot_use_a_shared_secret(server):
    assert_invalid_client(await server.token(CC, headers=basic("m2m.jwt", "secret")), challenge=True)
    response = await server.token({**CC, "client_id": "m2m.jwt", "client_secret": "secret"})
    assert_invalid_client(response, challenge=False)


async def test_client_with_only_shared_secrets_cannot_use_a_client_assertion(server):
    claims = assertion_claims(server, client_id="m2m")
    response = await server.token(assertion_form(client_assertion(RSA_CLIENT_KEY, "RS256", claims), scope="api1"))
    assert_invalid_client(response, challenge=False)


async def test_request_without_credentials_is_invalid_client(server):
    response = await server.token(CC)
    assert_invalid_client(response, challenge=False)


async def test_client_secret_in_the_query_string_is_not_accepted(server):
    response = await server.client.post(
        "/connect/token", params={"client_id": "m2m.post", "client_secret": "secret"}, data=CC
    )
    assert_invalid_client(response, challenge=False)


async def test_bearer_authorization_header_is_not_client_authentication(server):
    response = await server.token(CC, headers={"Authorization": "Bearer secret"})
    assert_invalid_client(response, challenge=False)


async def test_over_long_client_id_and_secret_are_invalid_client(server):
    assert_invalid_client(await server.token(CC, headers=basic("a" * 101, "secret")), challenge=True)
    assert_invalid_client(await server.token(CC, headers=basic("m2m", "s" * 101)), challenge=True)
    response = await server.token({**CC, "client_id": "m2m.post", "client_secret": "s" * 101})
    assert_invalid_client(response, challenge=False)


async def test_authentication_events_name_the_reason_and_never_the_secret():
    sink = RecordingEventSink()
    builder = await quick_builder(options=all_events())
    builder.add_event_sink(sink)
    async with running(builder) as srv:
        await srv.token(CC, headers=basic("nobody", "hunter2-unknown"))
        await srv.token(CC, headers=basic("m2m", "hunter2-wrong"))
        await srv.token(CC, headers=basic("m2m", "secret"))
    failures = sink.of_type(ClientAuthenticationFailureEvent)
    assert [e.client_id for e in failures] == ["nobody", "m2m"]
    assert failures[0].message == "unknown or disabled client"
    assert failures[1].message == "invalid client credentials"
    success = sink.of_type(ClientAuthenticationSuccessEvent)
    assert len(success) == 1
    assert success[0].authentication_method == "client_secret_basic"
    logged = json.dumps([e.to_dict() for e in sink.events])
    assert "hunter2" not in logged
    assert '"secret"' not in logged


def test_basic_credentials_keep_every_later_colon_split_of_an_unencoded_id() -> None:
    """``urn:api:sec:ret`` sent without form-encoding: the first split, then each later colon's, in order."""
    header = "Basic " + base64.b64encode(b"urn:api:sec:ret").decode()
    parsed = parse_basic_authorization(header, InputLengthRestrictions())
    assert isinstance(parsed, ParsedSecret)
    assert (parsed.id, parsed.credential) == ("urn", "api:sec:ret")
    assert parsed.alternatives == [("urn:api", "sec:ret"), ("urn:api:sec", "ret")]
    plain = parse_basic_authorization("Basic " + base64.b64encode(b"client:secret").decode(), InputLengthRestrictions())
    assert isinstance(plain, ParsedSecret) and plain.alternatives == []
