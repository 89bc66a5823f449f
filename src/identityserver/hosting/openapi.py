"""An OpenAPI 3.1 description of the protocol endpoints this server routes, made from its own router.

It is what HTTP fuzzers (schemathesis, ``tests/fuzz``) read: every routed path appears, with the parameters its
specification defines (RFC 6749, 7009, 7662, 7591, 8628, 9126, OIDC Core, CIBA) as free strings, so that a fuzzer sends
both well-formed and hostile values. A path this table does not know (an endpoint added by a host) is described as a
form POST that takes any parameter, so it is fuzzed too."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from identityserver.constants import ProtocolRoutePaths

_CLIENT_AUTH = ["client_id", "client_secret", "client_assertion", "client_assertion_type"]
_AUTHORIZE = [
    "client_id",
    "response_type",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "response_mode",
    "prompt",
    "max_age",
    "login_hint",
    "id_token_hint",
    "acr_values",
    "ui_locales",
    "code_challenge",
    "code_challenge_method",
    "request",
    "request_uri",
    "resource",
    "dpop_jkt",
    "claims",
]
_TOKEN = [
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "resource",
    "username",
    "password",
    "device_code",
    "auth_req_id",
    "subject_token",
    "subject_token_type",
    "actor_token",
    "actor_token_type",
    "requested_token_type",
    "audience",
    *_CLIENT_AUTH,
]
_CIBA = [
    "scope",
    "login_hint",
    "id_token_hint",
    "login_hint_token",
    "binding_message",
    "user_code",
    "requested_expiry",
    "acr_values",
    "request",
    "resource",
    "client_notification_token",
    *_CLIENT_AUTH,
]

#: path -> (methods, form or query parameters, the request needs an ``Authorization`` header)
_OPERATIONS: dict[str, tuple[tuple[str, ...], list[str], bool]] = {
    ProtocolRoutePaths.DISCOVERY: (("get",), [], False),
    ProtocolRoutePaths.DISCOVERY_WEB_KEYS: (("get",), [], False),
    ProtocolRoutePaths.AUTHORIZE: (("get", "post"), _AUTHORIZE, False),
    ProtocolRoutePaths.AUTHORIZE_CALLBACK: (("get",), _AUTHORIZE, False),
    ProtocolRoutePaths.TOKEN: (("post",), _TOKEN, True),
    ProtocolRoutePaths.USER_INFO: (("get", "post"), ["access_token"], True),
    ProtocolRoutePaths.INTROSPECTION: (("post",), ["token", "token_type_hint", *_CLIENT_AUTH], True),
    ProtocolRoutePaths.REVOCATION: (("post",), ["token", "token_type_hint", *_CLIENT_AUTH], True),
    ProtocolRoutePaths.END_SESSION: (
        ("get", "post"),
        ["id_token_hint", "post_logout_redirect_uri", "state", "client_id", "ui_locales", "logout_hint"],
        False,
    ),
    ProtocolRoutePaths.END_SESSION_CALLBACK: (("get",), ["endSessionId"], False),
    ProtocolRoutePaths.CHECK_SESSION: (("get",), [], False),
    ProtocolRoutePaths.DEVICE_AUTHORIZATION: (("post",), ["scope", "resource", *_CLIENT_AUTH], True),
    ProtocolRoutePaths.BACKCHANNEL_AUTHENTICATION: (("post",), _CIBA, True),
    ProtocolRoutePaths.PUSHED_AUTHORIZATION: (("post",), [*_AUTHORIZE, *_CLIENT_AUTH], True),
}

#: RFC 7591 §2 client metadata sent as JSON to the registration endpoint.
_REGISTRATION_METADATA = {
    "redirect_uris": {"type": "array", "items": {"type": "string"}},
    "grant_types": {"type": "array", "items": {"type": "string"}},
    "response_types": {"type": "array", "items": {"type": "string"}},
    "token_endpoint_auth_method": {"type": "string"},
    "client_name": {"type": "string"},
    "client_uri": {"type": "string"},
    "logo_uri": {"type": "string"},
    "scope": {"type": "string"},
    "jwks": {"type": "object"},
    "jwks_uri": {"type": "string"},
    "software_statement": {"type": "string"},
    "post_logout_redirect_uris": {"type": "array", "items": {"type": "string"}},
    "frontchannel_logout_uri": {"type": "string"},
    "backchannel_logout_uri": {"type": "string"},
}


def _value_schema(name: str, known: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    values = list(known.get(name, ()))
    if not values:
        return {"type": "string"}
    # known values let the fuzzer reach the code behind the first checks; free strings keep it hostile
    return {"anyOf": [{"enum": values}, {"type": "string"}]}


def _form(parameters: Iterable[str], known: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    properties = {name: _value_schema(name, known) for name in parameters}
    schema = {"type": "object", "properties": properties, "additionalProperties": {"type": "string"}}
    return {"required": False, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


def _query(parameters: Iterable[str], known: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "query", "required": False, "schema": _value_schema(name, known)} for name in parameters
    ]


_AUTHORIZATION_HEADER = {"name": "Authorization", "in": "header", "required": False, "schema": {"type": "string"}}
_DEFAULT_RESPONSES = {"default": {"description": "The protocol response, or the specification's error response"}}


def _operation(
    method: str, parameters: list[str], authorization: bool, known: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    operation: dict[str, Any] = {"responses": _DEFAULT_RESPONSES}
    headers = [_AUTHORIZATION_HEADER] if authorization else []
    if method == "get":
        operation["parameters"] = [*_query(parameters, known), *headers]
    else:
        operation["parameters"] = headers
        operation["requestBody"] = _form(parameters, known)
    return operation


#: Form and query fields of the shipped UI's pages (login, consent, device, CIBA, second factor, account pages).
UI_FIELDS = [
    "returnUrl",
    "username",
    "password",
    "button",
    "remember_login",
    "scopes_consented",
    "remember_consent",
    "user_code",
    "confirmed",
    "code",
    "logoutId",
    "errorId",
    "auth_req_id",
    "name",
    "credential_id",
    "scheme",
    "__RequestVerificationToken",
]


def _ui_operations(
    routes: Mapping[str, Iterable[str]], known: Mapping[str, Sequence[str]]
) -> dict[str, dict[str, Any]]:
    """The UI's pages as operations that take any of its fields; ``{name}`` segments become path parameters."""
    described: dict[str, dict[str, Any]] = {}
    for path, methods in routes.items():
        names = [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]
        in_path = [{"name": n, "in": "path", "required": True, "schema": _value_schema(n, known)} for n in names]
        operations: dict[str, Any] = {}
        for method in sorted({m.lower() for m in methods} & {"get", "post"}):
            operation = _operation(method, UI_FIELDS, False, known)
            operation["parameters"] = [*in_path, *operation["parameters"]]
            operations[method] = operation
        described[path] = operations
    return described


def protocol_openapi(
    paths: Iterable[str],
    issuer: str = "http://localhost",
    known_values: Mapping[str, Sequence[str]] | None = None,
    ui_routes: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``paths`` (the router's) and, when given, the UI's ``ui_routes`` (path ->
    methods). ``known_values`` maps parameter names to values that exist in the deployment (client ids, scopes,
    redirect URIs) that fuzzers mix with arbitrary strings."""
    known = known_values or {}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "identityserver protocol endpoints", "version": "1"},
        "servers": [{"url": issuer}],
        "paths": {},
    }
    for path in sorted(paths):
        if path == ProtocolRoutePaths.REGISTRATION:
            body = {"type": "object", "properties": _REGISTRATION_METADATA, "additionalProperties": True}
            json_body = {"required": True, "content": {"application/json": {"schema": body}}}
            # RFC 7592 §2: the client configuration endpoint is this path with ?client_id=
            managed = [*_query(["client_id"], known), _AUTHORIZATION_HEADER]
            document["paths"][path] = {
                "post": {
                    "parameters": [_AUTHORIZATION_HEADER],
                    "requestBody": json_body,
                    "responses": _DEFAULT_RESPONSES,
                },
                "get": {"parameters": managed, "responses": _DEFAULT_RESPONSES},
                "put": {"parameters": managed, "requestBody": json_body, "responses": _DEFAULT_RESPONSES},
                "delete": {"parameters": managed, "responses": _DEFAULT_RESPONSES},
            }
            continue
        methods, parameters, authorization = _OPERATIONS.get(path, (("post",), [], True))
        document["paths"][path] = {m: _operation(m, parameters, authorization, known) for m in methods}
    document["paths"].update(_ui_operations(ui_routes or {}, known))
    return document
