"""Helpers for client-authentication tests: RFC 6749 §2.3.1 Basic headers, RFC 7523 client assertions built
by hand (so that tests can produce malformed ones), and a recording event sink."""

from __future__ import annotations

import base64
import json
import tomllib
import uuid
import warnings
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import quote_plus

from identityserver._utils.b64 import b64url_decode, b64url_encode
from identityserver.configuration.loader import Configuration, parse_configuration
from identityserver.crypto.jwk import PrivateKey
from identityserver.crypto.jwt import sign
from identityserver.events import Event
from identityserver.options import EventsOptions, IdentityServerOptions
from tests.support.server import Server

E = TypeVar("E", bound=Event)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def form_basic(client_id: str, secret: str) -> dict[str, str]:
    """``Authorization: Basic`` with both values form-encoded first, as RFC 6749 §2.3.1 requires."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


def raw_jws(header: str, payload: str, key: PrivateKey, alg: str) -> str:
    """A compact JWS over exactly the given JSON texts (duplicates, NaN … survive)."""
    signing_input = f"{b64url_encode(header.encode())}.{b64url_encode(payload.encode())}"
    return f"{signing_input}.{b64url_encode(sign(alg, key, signing_input.encode('ascii')))}"


def assertion_claims(server: Server, client_id: str = "m2m.jwt", **overrides: Any) -> dict[str, Any]:
    """Valid RFC 7523 §3 claims for ``client_id``; an override of ``...`` (Ellipsis) removes the claim."""
    now = int(server.clock.timestamp())
    claims: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": server.issuer + "/connect/token",
        "exp": now + 60,
        "iat": now,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not ...}


def client_assertion(key: PrivateKey, alg: str, claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    return raw_jws(json.dumps({"alg": alg, **(header or {})}), json.dumps(claims), key, alg)


def assertion_form(assertion: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        **extra,
    }


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS, unverified."""
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


def configuration(text: str) -> Configuration:
    return parse_configuration(tomllib.loads(text), "<test>")


def all_events(options: IdentityServerOptions | None = None) -> IdentityServerOptions:
    return replace(options or IdentityServerOptions(), events=EventsOptions(True, True, True, True))


class RecordingEventSink:
    """Keeps every event it is given."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def persist(self, event: Event) -> None:
        self.events.append(event)

    def of_type(self, event_type: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, event_type)]


def verify_jwt(token: str, jwks: dict[str, Any], algorithms: list[str]) -> dict[str, Any]:
    """Verify ``token`` against a JWKS with an independent JOSE implementation (Authlib); return its claims."""
    import authlib.deprecate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
        from authlib.jose import JsonWebKey, JsonWebToken

        claims = JsonWebToken(algorithms).decode(token, JsonWebKey.import_key_set(jwks))
    return dict(claims)
