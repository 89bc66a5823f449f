"""Signed CIBA requests (CIBA Core §7.1.1) through the request-object validator: required claims, one-time
``jti``, a lifetime of at most an hour, no parameter outside the object, the client's own key."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from identityserver.crypto.jwk import public_jwk
from identityserver.models.grants import PersistedGrantFilter
from tests.ciba.support import ciba_builder
from tests.support.client_auth import client_assertion
from tests.support.data import EC_CLIENT_KEY, RSA_CLIENT_KEY
from tests.support.server import Server, running

OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


def _jwk() -> str:
    data = public_jwk(RSA_CLIENT_KEY)
    data["kid"] = "rsa1"
    return json.dumps(data)


SIGNED_TOML = f"""
[[clients]]
client_id = "ciba.jar"
client_secrets = ["secret", {{ type = "JWK", value = '{_jwk()}' }}]
allowed_grant_types = ["urn:openid:params:grant-type:ciba"]
allowed_scopes = ["openid", "api1"]
require_request_object = true

[[clients]]
client_id = "ciba.nokeys"
client_secrets = ["secret"]
allowed_grant_types = ["urn:openid:params:grant-type:ciba"]
allowed_scopes = ["openid"]
"""


def claims(server: Server, **overrides: Any) -> dict[str, Any]:
    now = int(server.clock.timestamp())
    values: dict[str, Any] = {
        "iss": "ciba.jar",
        "aud": server.issuer,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "scope": "openid api1",
        "login_hint": "alice",
        "binding_message": "ABC",
        "requested_expiry": 60,
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not ...}


async def send(server: Server, data: dict[str, str], client_id: str = "ciba.jar") -> Any:
    return await server.client.post("/connect/ciba", data=data, auth=(client_id, "secret"))


async def count(server: Server) -> int:
    return len(await server.services.persisted_grants.get_all(PersistedGrantFilter(type="ciba")))


async def test_signed_request_is_accepted_and_its_values_used() -> None:
    async with running(ciba_builder(SIGNED_TOML)) as server:
        token = client_assertion(RSA_CLIENT_KEY, "RS256", claims(server))
        response = await send(server, {"request": token})
        assert response.status_code == 200, response.text
        assert response.json()["expires_in"] == 60  # requested_expiry as a JSON number
        interaction = server.services.backchannel_authentication
        assert interaction is not None
        [login] = await interaction.get_pending_login_requests_for_user("1")
        assert login.binding_message == "ABC"
        replay = await send(server, {"request": token})
        assert (replay.status_code, replay.json()["error"]) == (400, "invalid_request")
        assert await count(server) == 1


async def test_client_requiring_request_objects_refuses_plain_requests() -> None:
    async with running(ciba_builder(SIGNED_TOML)) as server:
        response = await send(server, {"scope": "openid", "login_hint": "alice"})
        assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
        assert await count(server) == 0


@pytest.mark.parametrize(
    "change",
    [
        {"jti": ...},
        {"iat": ...},
        {"nbf": ...},
        {"exp": ...},
        {"aud": "https://other.example"},
        {"iss": "ciba"},
        {"exp_minutes": 70},
        {"request": "nested"},
        {"outside": "login_hint"},
        {"key": "other"},
        {"alg": "none"},
    ],
)
async def test_bad_signed_requests_are_invalid_request(change: dict[str, Any]) -> None:
    async with running(ciba_builder(SIGNED_TOML)) as server:
        values = claims(
            server, **{k: v for k, v in change.items() if k not in ("exp_minutes", "outside", "key", "alg")}
        )
        if "exp_minutes" in change:
            values["exp"] = values["nbf"] + change["exp_minutes"] * 60
        if change.get("alg") == "none":
            import base64

            def part(value: dict[str, Any]) -> str:
                return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

            token = part({"alg": "none"}) + "." + part(values) + "."
        else:
            key = OTHER_KEY if change.get("key") else RSA_CLIENT_KEY
            token = client_assertion(key, "ES256" if change.get("key") else "RS256", values)
        data = {"request": token}
        if "outside" in change:
            data["login_hint"] = "alice"
        response = await send(server, data)
        assert (response.status_code, response.json()["error"]) == (400, "invalid_request"), response.text
        assert await count(server) == 0


async def test_request_object_of_a_client_without_keys_is_refused() -> None:
    async with running(ciba_builder(SIGNED_TOML)) as server:
        token = client_assertion(EC_CLIENT_KEY, "ES256", claims(server, iss="ciba.nokeys"))
        response = await send(server, {"request": token}, client_id="ciba.nokeys")
        assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
        oversize = await send(server, {"request": "a" * 51201}, client_id="ciba.nokeys")
        assert (oversize.status_code, oversize.json()["error"]) == (400, "invalid_request")


async def test_private_key_jwt_client_authenticates_with_the_ciba_endpoint_as_audience() -> None:
    async with running(ciba_builder(SIGNED_TOML)) as server:
        assertion = client_assertion(
            RSA_CLIENT_KEY,
            "RS256",
            {
                "iss": "ciba.jar",
                "sub": "ciba.jar",
                "aud": server.issuer + "/connect/ciba",
                "iat": int(server.clock.timestamp()),
                "exp": int(server.clock.timestamp()) + 60,
                "jti": uuid.uuid4().hex,
            },
        )
        token = client_assertion(RSA_CLIENT_KEY, "RS256", claims(server))
        response = await server.client.post(
            "/connect/ciba",
            data={
                "request": token,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
            },
        )
        assert response.status_code == 200, response.text
