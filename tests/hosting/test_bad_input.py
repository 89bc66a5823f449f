"""Bad input at every protocol endpoint (issue 2 "Bad input"; security.md items 49-51, 73-75, 81-85, 88-93):
the spec's error code and status, no change of state, never a 500 or a stack trace."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest

from tests.support.client_auth import FORM, assertion_form, form_basic
from tests.support.quick import quick_builder
from tests.support.server import Server, basic, running

TOKEN = "/connect/token"
INTROSPECT = "/connect/introspect"
REVOKE = "/connect/revocation"
POST_ENDPOINTS = [TOKEN, INTROSPECT, REVOKE]
GET_ENDPOINTS = ["/.well-known/openid-configuration", "/.well-known/openid-configuration/jwks"]

#: RFC 6749 §5.2: error and error_description are limited to %x20-21 / %x23-5B / %x5D-7E.
ERROR_CHARSET = re.compile(r"^[\x20\x21\x23-\x5B\x5D-\x7E]*$")

CREDENTIALS = {
    TOKEN: basic("m2m", "secret"),
    INTROSPECT: form_basic("urn:api1", "api1-secret"),
    REVOKE: basic("m2m.reference", "secret"),
}
VALID_FORM = {
    TOKEN: "grant_type=client_credentials&scope=api1",
    INTROSPECT: "token=abc",
    REVOKE: "token=abc",
}


def assert_safe(response) -> None:
    """No 500 and nothing that looks like a stack trace or a source path in the body."""
    assert response.status_code < 500, response.text
    text = response.text
    for marker in ("Traceback", 'File "', ".py", "Exception", "Error:"):
        assert marker not in text, text


def assert_token_error(response, status: int, error: str) -> None:
    assert_safe(response)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["error"] == error
    assert ERROR_CHARSET.match(body.get("error_description", ""))


async def post_raw(server: Server, path: str, body: bytes, headers: dict[str, str] | None = None):
    return await server.client.post(path, content=body, headers={**FORM, **(headers or {})})


# -- methods and content types -------------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with running(await quick_builder()) as srv:
        yield srv


@pytest.mark.parametrize("path", POST_ENDPOINTS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD"])
async def test_post_endpoints_refuse_other_methods_with_405(server, path, method):
    response = await server.client.request(method, path, headers=CREDENTIALS[path])
    assert_safe(response)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_token_request_in_the_query_string_of_a_get_issues_nothing(server):
    response = await server.client.get(TOKEN, params={"grant_type": "client_credentials"}, headers=CREDENTIALS[TOKEN])
    assert response.status_code == 405
    assert "access_token" not in response.text


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"grant_type":"client_credentials"}'),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nc\r\n--x--',
        ),
        ("text/plain", b"grant_type=client_credentials"),
        ("application/x-www-form-urlencodedX", b"grant_type=client_credentials"),
        (None, b"grant_type=client_credentials"),
    ],
)
async def test_token_request_that_is_not_form_encoded_is_invalid_request(server, content_type, body):
    headers = {**CREDENTIALS[TOKEN]}
    if content_type:
        headers["content-type"] = content_type
    response = await server.client.post(TOKEN, content=body, headers=headers)
    assert_token_error(response, 400, "invalid_request")


@pytest.mark.parametrize("path", [INTROSPECT, REVOKE])
@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data; boundary=x"])
async def test_introspection_and_revocation_refuse_other_content_types_with_415(server, path, content_type):
    response = await server.client.post(
        path, content=b"token=abc", headers={**CREDENTIALS[path], "content-type": content_type}
    )
    assert_safe(response)
    assert response.status_code == 415


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded; charset=utf-8", "Application/X-WWW-Form-Urlencoded"]
)
async def test_form_content_type_with_parameters_or_other_case_is_accepted(server, content_type):
    response = await server.client.post(
        TOKEN, content=VALID_FORM[TOKEN].encode(), headers={**CREDENTIALS[TOKEN], "content-type": content_type}
    )
    assert response.status_code == 200


# -- duplicates, sizes, encodings ------------------------------------------------------------------------


@pytest.mark.parametrize("path", POST_ENDPOINTS)
@pytest.mark.parametrize(
    "parameter", ["grant_type", "scope", "token", "client_id", "client_secret", "client_assertion"]
)
async def test_repeated_parameter_is_invalid_request(server, path, parameter):
    body = f"{VALID_FORM[path]}&{parameter}=a&{parameter}=b".encode()
    response = await post_raw(server, path, body, CREDENTIALS[path])
    assert_safe(response)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_repeated_parameter_issues_no_token_and_revokes_nothing(server):
    issued = await server.token({"grant_type": "client_credentials"}, headers=basic("m2m.reference", "secret"))
    handle = issued.json()["access_token"]
    revoke = await post_raw(server, REVOKE, f"token={handle}&token={handle}".encode(), CREDENTIALS[REVOKE])
    assert revoke.status_code == 400
    introspection = await post_raw(server, INTROSPECT, f"token={handle}".encode(), CREDENTIALS[INTROSPECT])
    assert introspection.json()["active"] is True


@pytest.mark.parametrize("path", POST_ENDPOINTS)
async def test_oversized_body_is_413(server, path):
    body = VALID_FORM[path].encode() + b"&padding=" + b"x" * 70_000
    response = await post_raw(server, path, body, CREDENTIALS[path])
    assert_safe(response)
    assert response.status_code == 413


@pytest.mark.parametrize("path", POST_ENDPOINTS)
async def test_oversized_streamed_body_is_413(server, path):
    async def chunks() -> AsyncIterator[bytes]:
        yield VALID_FORM[path].encode() + b"&padding="
        for _ in range(20):
            yield b"x" * 8192

    response = await server.client.post(path, content=chunks(), headers={**FORM, **CREDENTIALS[path]})
    assert_safe(response)
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("client_id", "c" * 101, "invalid_client"),
        ("client_secret", "s" * 101, "invalid_client"),
        ("scope", "api1 " + "s" * 300, "invalid_scope"),
        ("grant_type", "g" * 101, "unsupported_grant_type"),
        ("resource", "https://api.example/" + "r" * 512, "invalid_target"),
        ("client_assertion", "a" * 51_201, "invalid_client"),
    ],
)
async def test_over_long_token_parameter_is_rejected_with_its_error(server, field, value, error):
    form = {"grant_type": "client_credentials", "scope": "api1", "client_id": "m2m", "client_secret": "secret"}
    if field == "client_assertion":
        form = assertion_form(value)
    form[field] = value
    response = await server.token(form)
    assert_token_error(response, response.status_code, error)
    assert response.status_code in (400, 401)


@pytest.mark.parametrize("token", ["t" * 101, "a.b." + "c" * 60_000])
async def test_over_long_token_at_introspection_is_inactive(server, token):
    response = await post_raw(server, INTROSPECT, f"token={token}".encode(), CREDENTIALS[INTROSPECT])
    assert response.status_code == 200
    assert response.json() == {"active": False}


@pytest.mark.parametrize("path", POST_ENDPOINTS)
@pytest.mark.parametrize(
    "body",
    [
        b"grant_type=client_credentials&scope=\xff\xfe",
        b"grant_type=%ff&scope=%C0%AF&token=%ED%A0%80",
        b"token=a%00b&grant_type=client_credentials%00",
        b"&&&===&&&",
        b"=value&token",
        b"%",
        b"token=" + "\U0001f600".encode() * 10,
        b"&".join(b"f%d=1" % i for i in range(500)),
    ],
)
async def test_strange_form_bodies_never_cause_a_server_error(server, path, body):
    response = await post_raw(server, path, body, CREDENTIALS[path])
    assert_safe(response)
    assert response.status_code in (200, 400, 401)


# -- client authentication input ------------------------------------------------------------------------

MALFORMED_BASIC = [
    "Basic !!!",
    "Basic",
    "Basic ",
    "Basic " + base64.b64encode(b"no-colon").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
    "Basic " + base64.b64encode(b":secret").decode(),
    "Basic " + base64.b64encode(b"m2m:secret").decode() + "===",
    "Basic " + base64.b64encode(b"m2m:secret").decode()[:-1],
    "Basic " + base64.b64encode(b"%zz:%").decode(),
    "Basic " + base64.b64encode(("x" * 200 + ":" + "y" * 200).encode()).decode(),
    "Basic " + "A" * 10_000,
]


@pytest.mark.parametrize("path", POST_ENDPOINTS)
@pytest.mark.parametrize("header", MALFORMED_BASIC)
async def test_malformed_basic_header_is_401_invalid_client(server, path, header):
    response = await post_raw(server, path, VALID_FORM[path].encode(), {"Authorization": header})
    assert_safe(response)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


MALFORMED_JWTS = [
    "",
    "a",
    "a.b",
    "a.b.c.d",
    "a.b.c.d.e",
    "!!.!!.!!",
    "e30.e30.",
    "eyJhbGciOiJub25lIn0.e30.",
    "eyJhbGciOiJSUzI1NiJ9.W10.AAAA",
    "eyJhbGciOiJSUzI1NiJ9.bnVsbA.AAAA",
    "W10.e30.AAAA",
    "eyJhbGciOlsiUlMyNTYiXX0.e30.AAAA",
    "eyJhbGciOiJSUzI1NiIsImFsZyI6Im5vbmUifQ.e30.AAAA",
    base64.urlsafe_b64encode(b'{"alg":"RS256"}').decode().rstrip("=") + "." + "W" * 20_000 + ".AAAA",
    base64.urlsafe_b64encode(b'{"x":' + b"[" * 3000 + b"]" * 3000 + b"}").decode().rstrip("=") + ".e30.AAAA",
]


@pytest.mark.parametrize("jwt", MALFORMED_JWTS)
async def test_malformed_client_assertion_is_invalid_client(server, jwt):
    response = await server.token(assertion_form(jwt, client_id="m2m.jwt"))
    assert_token_error(response, response.status_code, "invalid_client")
    assert response.status_code in (400, 401)


@pytest.mark.parametrize("jwt", MALFORMED_JWTS)
async def test_malformed_jwt_at_introspection_is_inactive(server, jwt):
    response = await post_raw(server, INTROSPECT, f"token={quote(jwt)}".encode(), CREDENTIALS[INTROSPECT])
    assert_safe(response)
    assert response.status_code in (200, 400)
    assert response.json().get("active", False) is False


@pytest.mark.parametrize("jwt", MALFORMED_JWTS)
async def test_malformed_jwt_at_revocation_is_harmless(server, jwt):
    response = await post_raw(server, REVOKE, f"token={quote(jwt)}".encode(), CREDENTIALS[REVOKE])
    assert_safe(response)
    assert response.status_code in (200, 400)


@pytest.mark.parametrize(
    "client_id",
    ["nobody", "", " ", "m2m ", "M2M", "m2m\x00", "' OR '1'='1", "../m2m", "\udcff", "\u00e9\u00e9", "\U0001f600"],
)
async def test_unknown_client_is_invalid_client_everywhere(server, client_id):
    raw = f"{quote(client_id, safe='', errors='surrogatepass')}:secret".encode()
    header = {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    for path in POST_ENDPOINTS:
        response = await post_raw(server, path, VALID_FORM[path].encode(), header)
        assert_safe(response)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"] == "invalid_client"


# -- token responses: headers and error descriptions ---------------------------------------------------

TOKEN_REQUESTS = [
    ({"grant_type": "client_credentials"}, basic("m2m", "secret")),
    ({"grant_type": "client_credentials"}, basic("m2m", "wrong")),
    ({"grant_type": "client_credentials"}, {}),
    ({"grant_type": "nope"}, basic("m2m", "secret")),
    ({"grant_type": "client_credentials", "scope": "nope"}, basic("m2m", "secret")),
    ({"grant_type": "client_credentials", "resource": "bad"}, basic("m2m", "secret")),
    ({"scope": "api1"}, basic("m2m", "secret")),
    ({"grant_type": "client_credentials", "client_secret": "x"}, basic("m2m", "secret")),
]


@pytest.mark.parametrize(("form", "headers"), TOKEN_REQUESTS)
async def test_every_token_response_is_json_and_not_cacheable(server, form, headers):
    response = await server.token(form, headers=headers)
    assert_safe(response)
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


@pytest.mark.parametrize(
    "name",
    ['a"b', "a\\b", "a\r\nX-Injected: 1", "caf\u00e9", "\U0001f600", "tab\there", "<script>"],
)
async def test_error_description_never_carries_characters_outside_rfc_6749_section_5_2(server, name):
    encoded = quote(name, safe="")
    body = f"grant_type=client_credentials&{encoded}=1&{encoded}=2".encode()
    response = await post_raw(server, TOKEN, body, CREDENTIALS[TOKEN])
    assert_token_error(response, 400, "invalid_request")
    assert "X-Injected" not in response.headers


async def test_unhandled_exception_answers_server_error_without_details(caplog):
    class Exploding:
        async def validate(self, context) -> None:
            raise RuntimeError("internal detail /srv/app/secret.py line 42")

    builder = await quick_builder()
    builder.add_custom_token_request_validator(Exploding())
    async with running(builder) as srv:
        response = await srv.token({"grant_type": "client_credentials"}, headers=basic("m2m", "secret"))
    assert response.status_code == 500
    assert response.json() == {"error": "server_error"}
    assert response.headers["cache-control"] == "no-store"
    assert "internal detail" not in response.text
    assert any("internal detail" in str(record.exc_info) for record in caplog.records if record.exc_info)


async def test_unknown_protocol_path_is_404(server):
    for path in ("/connect/unknown", "/connect/token/extra", "/.well-known/oauth-authorization-server/x"):
        response = await server.client.post(path, data={"grant_type": "client_credentials"})
        assert_safe(response)
        assert response.status_code == 404
