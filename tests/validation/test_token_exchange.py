"""Token exchange (RFC 8693) at the token endpoint: delegation with nested ``act`` (§4.1), impersonation,
``may_act`` (§4.4), per-client policy (targets, scopes, depth, trusted issuers), sender-constrained subject tokens
(RFC 9449 §6.1, RFC 8705 §3.1), ``issued_token_type`` (§2.2.1), the errors of §2.2.2 and the events."""

from __future__ import annotations

import base64
import tomllib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from identityserver.client.dpop import DPoPKey
from identityserver.configuration.errors import ConfigError
from identityserver.configuration.loader import parse_configuration
from identityserver.constants import TokenTypeIdentifiers
from identityserver.crypto.certificates import certificate_thumbprint
from identityserver.crypto.jwt import JwtError, decode_jws, encode_jws, verify_signature
from identityserver.events import TokenExchangeFailureEvent, TokenExchangeSuccessEvent, TokenIssuedSuccessEvent
from identityserver.models.claims import Claim, Principal
from identityserver.models.client import Client
from identityserver.models.resources import ResourceValidationResult
from identityserver.models.token_exchange import token_exchange_policy
from identityserver.options import MutualTlsOptions
from identityserver.services.protocols import EventSink
from identityserver.services.token_service import TokenCreationRequest
from identityserver.storage.sqlalchemy.configuration_mappers import client_from_rows, client_to_rows
from identityserver.validation.subject_token import SubjectTokenValidationResult, SubjectTokenValidator
from tests.support.client_auth import RecordingEventSink, all_events, jwt_parts
from tests.support.data import test_configuration as configuration_with
from tests.support.server import Server, basic, make_builder, running

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = TokenTypeIdentifiers.ACCESS_TOKEN
ID_TOKEN = TokenTypeIdentifiers.ID_TOKEN
TOKEN_URL = "https://idp.example/connect/token"
PARTNER = "https://partner.example"
PROXY = "203.0.113.7"

EXTRA = f"""
[[clients]]
client_id = "te.user"
client_secrets = ["secret"]
allowed_grant_types = ["password"]
allowed_scopes = ["openid", "profile", "api1", "api2"]

[[clients]]
client_id = "te.user.ref"
client_secrets = ["secret"]
allowed_grant_types = ["password"]
allowed_scopes = ["api1", "api2"]
access_token_type = "reference"

[[clients]]
client_id = "actor1"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "actor2"
client_secrets = ["secret"]
allowed_grant_types = ["client_credentials"]
allowed_scopes = ["api1"]

[[clients]]
client_id = "gateway"
client_secrets = ["secret"]
allowed_grant_types = ["{EXCHANGE}"]
allowed_scopes = ["openid", "profile", "api1", "api2"]
[clients.token_exchange]
audiences = ["urn:api1", "urn:api2"]
delegation = true
impersonation = true
max_delegation_depth = 2
subject_token_issuers = ["{PARTNER}"]

[[clients]]
client_id = "delegate.only"
client_secrets = ["secret"]
allowed_grant_types = ["{EXCHANGE}"]
allowed_scopes = ["api1", "api2"]

[[clients]]
client_id = "narrow"
client_secrets = ["secret"]
allowed_grant_types = ["{EXCHANGE}"]
allowed_scopes = ["api1", "api2"]
[clients.token_exchange]
audiences = ["urn:api1"]
scopes = ["api1"]
impersonation = true
delegation = false
"""


class PartnerTokens:
    """Another issuer's tokens, checked with that issuer's key (the ``SubjectTokenValidator`` of a deployment)."""

    issuer = PARTNER

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())

    def issue(self, **claims: Any) -> str:
        return encode_jws({"alg": "ES256", "typ": "JWT"}, {"iss": PARTNER, **claims}, self.key)

    async def validate(self, token: str, token_type: str) -> SubjectTokenValidationResult:
        try:
            jws = decode_jws(token)
        except JwtError:
            return SubjectTokenValidationResult(error_description="malformed")
        if not verify_signature("ES256", self.key.public_key(), jws.signing_input, jws.signature):
            return SubjectTokenValidationResult(error_description="bad signature")
        return SubjectTokenValidationResult(claims=dict(jws.payload))


@pytest.fixture
def partner() -> PartnerTokens:
    return PartnerTokens()


@pytest.fixture
def sink() -> RecordingEventSink:
    return RecordingEventSink()


@pytest.fixture
async def server(partner: PartnerTokens, sink: RecordingEventSink) -> AsyncIterator[Server]:
    config = configuration_with(EXTRA)
    config.options = all_events(config.options)
    builder = make_builder(config)
    builder.add_item(SubjectTokenValidator, partner)
    builder.add(EventSink, sink)
    async with running(builder) as srv:
        yield srv


async def user_token(server: Server, client_id: str = "te.user", scope: str = "api1 api2", **headers: str) -> str:
    response = await server.token(
        {"grant_type": "password", "username": "alice", "password": "alice", "scope": scope},
        headers={**basic(client_id, "secret"), **headers},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def client_token(server: Server, client_id: str = "actor1") -> str:
    response = await server.token(
        {"grant_type": "client_credentials", "scope": "api1"}, headers=basic(client_id, "secret")
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def exchange(server: Server, client_id: str = "gateway", headers: dict[str, str] | None = None, **fields: Any):
    data = {"grant_type": EXCHANGE, "subject_token_type": ACCESS_TOKEN, **fields}
    return await server.token(data, headers={**basic(client_id, "secret"), **(headers or {})})


def error_of(response) -> str:
    assert response.status_code == 400, response.text
    assert response.headers["cache-control"] == "no-store"
    return str(response.json()["error"])


# -- delegation and impersonation ---------------------------------------------------------------------------------


async def test_delegation_issues_a_token_for_the_subject_naming_the_actor(server):
    subject, actor = await user_token(server), await client_token(server)
    response = await exchange(
        server, subject_token=subject, actor_token=actor, actor_token_type=ACCESS_TOKEN, audience="urn:api2"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["issued_token_type"] == ACCESS_TOKEN
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "api2"  # the audience narrows the scopes to the ones that reach it
    assert "refresh_token" not in body and "id_token" not in body
    claims = jwt_parts(body["access_token"])[1]
    assert claims["sub"] == "1"
    assert claims["client_id"] == "gateway"
    assert claims["aud"] == "urn:api2"
    assert claims["act"] == {"sub": "actor1"}
    assert claims["amr"] == ["pwd"] and claims["idp"] == "local"  # the original authentication carries over
    # the API it was exchanged for sees the delegation when it introspects the token
    introspected = await server.client.post(
        "/connect/introspect", data={"token": body["access_token"]}, headers=basic("urn:api2", "api2-secret")
    )
    assert introspected.json()["active"] is True
    assert introspected.json()["act"] == {"sub": "actor1"}


async def test_a_delegated_token_exchanged_again_nests_the_prior_actor(server):
    first = await exchange(
        server,
        subject_token=await user_token(server),
        actor_token=await client_token(server, "actor1"),
        actor_token_type=ACCESS_TOKEN,
        scope="api1",
    )
    delegated = first.json()["access_token"]
    second = await exchange(
        server,
        subject_token=delegated,
        actor_token=await client_token(server, "actor2"),
        actor_token_type=ACCESS_TOKEN,
    )
    assert second.status_code == 200, second.text
    claims = jwt_parts(second.json()["access_token"])[1]
    assert claims["sub"] == "1"
    # RFC 8693 §4.1: the outermost act is the current actor, nested ones are prior actors
    assert claims["act"] == {"sub": "actor2", "act": {"sub": "actor1"}}
    third = await exchange(
        server,
        subject_token=second.json()["access_token"],
        actor_token=await client_token(server, "actor1"),
        actor_token_type=ACCESS_TOKEN,
    )
    assert error_of(third) == "invalid_request"
    assert "3 actors deep" in third.json()["error_description"]


async def test_impersonation_issues_a_token_without_act_when_policy_allows(server):
    response = await exchange(server, subject_token=await user_token(server), scope="api1", resource="urn:api1")
    assert response.status_code == 200, response.text
    claims = jwt_parts(response.json()["access_token"])[1]
    assert claims["sub"] == "1" and "act" not in claims
    assert claims["aud"] == "urn:api1" and claims["scope"] == "api1"


async def test_impersonation_is_refused_unless_policy_allows_it(server):
    # no [clients.token_exchange] table: delegation only
    response = await exchange(server, "delegate.only", subject_token=await user_token(server))
    assert error_of(response) == "invalid_request"
    assert "impersonate" in response.json()["error_description"]
    delegated = await exchange(
        server,
        "delegate.only",
        subject_token=await user_token(server),
        actor_token=await client_token(server),
        actor_token_type=ACCESS_TOKEN,
    )
    assert delegated.status_code == 200, delegated.text


async def test_delegation_is_refused_when_policy_forbids_it(server):
    response = await exchange(
        server,
        "narrow",
        subject_token=await user_token(server),
        actor_token=await client_token(server),
        actor_token_type=ACCESS_TOKEN,
    )
    assert error_of(response) == "invalid_request"


async def test_a_client_without_the_grant_type_is_unauthorized(server):
    response = await exchange(server, "actor1", subject_token=await user_token(server))
    assert error_of(response) == "unauthorized_client"


# -- scopes and targets -------------------------------------------------------------------------------------------


async def test_without_scope_the_token_keeps_the_subject_tokens_scopes_the_client_may_have(server):
    response = await exchange(server, subject_token=await user_token(server, scope="api1"))
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "api1"


async def test_scopes_can_only_narrow(server):
    subject = await user_token(server, scope="api1")
    response = await exchange(server, subject_token=subject, scope="api1 api2")
    assert error_of(response) == "invalid_scope"
    assert "narrow" in response.json()["error_description"]
    assert error_of(await exchange(server, subject_token=subject, scope="offline_access")) == "invalid_scope"


async def test_policy_scopes_limit_what_the_client_may_ask_for(server):
    subject = await user_token(server)
    assert error_of(await exchange(server, "narrow", subject_token=subject, scope="api2")) == "invalid_scope"
    response = await exchange(server, "narrow", subject_token=subject)
    assert response.status_code == 200 and response.json()["scope"] == "api1"


@pytest.mark.parametrize(
    "target",
    [{"audience": "urn:api3"}, {"resource": "https://elsewhere.example/api"}, {"resource": "not a uri"}],
)
async def test_targets_outside_policy_are_invalid_target(server, target):
    response = await exchange(server, subject_token=await user_token(server), **target)
    assert error_of(response) == "invalid_target"


async def test_an_audience_outside_the_narrow_clients_policy_is_invalid_target(server):
    response = await exchange(server, "narrow", subject_token=await user_token(server), audience="urn:api2")
    assert error_of(response) == "invalid_target"


async def test_several_audiences_make_a_token_for_all_of_them(server):
    response = await server.client.post(
        "/connect/token",
        content=(
            f"grant_type={EXCHANGE}&subject_token_type={ACCESS_TOKEN}&subject_token={await user_token(server)}"
            "&audience=urn%3Aapi1&audience=urn%3Aapi2"
        ),
        headers={**basic("gateway", "secret"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert sorted(jwt_parts(response.json()["access_token"])[1]["aud"]) == ["urn:api1", "urn:api2"]


async def test_the_exchanged_token_does_not_outlive_the_subject_token(server):
    subject = await user_token(server)
    server.clock.advance(3000)
    response = await exchange(server, subject_token=subject)
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 600


# -- the presented tokens -----------------------------------------------------------------------------------------


async def test_an_expired_subject_token_is_refused(server):
    subject = await user_token(server)
    server.clock.advance(3601)
    response = await exchange(server, subject_token=subject)
    assert error_of(response) == "invalid_request"
    assert "expired" in response.json()["error_description"]


async def test_reference_subject_tokens_work_until_revoked(server):
    subject = await user_token(server, "te.user.ref")
    assert (await exchange(server, subject_token=subject)).status_code == 200
    revoked = await server.client.post(
        "/connect/revocation", data={"token": subject}, headers=basic("te.user.ref", "secret")
    )
    assert revoked.status_code == 200
    response = await exchange(server, subject_token=subject)
    assert error_of(response) == "invalid_request"


async def test_wrongly_typed_subject_tokens_are_refused(server):
    subject = await user_token(server)
    # an access token presented as an ID token, and a token type this server does not exchange
    assert error_of(await exchange(server, subject_token=subject, subject_token_type=ID_TOKEN)) == "invalid_request"
    refresh = await exchange(server, subject_token=subject, subject_token_type=TokenTypeIdentifiers.REFRESH_TOKEN)
    assert error_of(refresh) == "invalid_request"
    assert "not supported" in refresh.json()["error_description"]


async def test_an_id_token_of_this_server_is_a_subject_token_of_its_type(server):
    services = server.services
    subject = Principal([Claim("sub", "1"), Claim("auth_time", "1700000000"), Claim("idp", "local")])
    client = await services.clients.find_client_by_id("gateway")  # only its audience may exchange an ID token
    assert client is not None
    id_token = await services.token_service.create_security_token(
        await services.token_service.create_identity_token(
            TokenCreationRequest(client, server.issuer, ResourceValidationResult(), subject, nonce="n")
        )
    )
    # an ID token is not an access token
    assert error_of(await exchange(server, subject_token=id_token)) == "invalid_request"
    response = await exchange(server, subject_token=id_token, subject_token_type=ID_TOKEN, scope="api1")
    assert response.status_code == 200, response.text
    assert jwt_parts(response.json()["access_token"])[1]["sub"] == "1"


async def test_a_subject_the_profile_service_no_longer_knows_is_refused(server):
    services = server.services
    client = await services.clients.find_client_by_id("te.user")
    assert client is not None
    ghost = Principal([Claim("sub", "ghost"), Claim("idp", "local")])
    token = await services.token_service.create_access_token(
        TokenCreationRequest(client, server.issuer, ResourceValidationResult(), ghost)
    )
    response = await exchange(server, subject_token=await services.token_service.create_security_token(token))
    assert error_of(response) == "invalid_request"
    assert "no longer" in response.json()["error_description"]


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", "x" * 200])
async def test_garbage_subject_tokens_are_refused(server, token):
    assert error_of(await exchange(server, subject_token=token)) == "invalid_request"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"subject_token_type": ""},
        {"actor_token": "abc"},
        {"actor_token_type": ACCESS_TOKEN},
        {"requested_token_type": TokenTypeIdentifiers.REFRESH_TOKEN},
        {"requested_token_type": TokenTypeIdentifiers.SAML2},
    ],
)
async def test_malformed_requests_are_invalid_request(server, fields):
    if fields:
        fields = {"subject_token": await user_token(server), **fields}
    response = await exchange(server, **fields)
    assert error_of(response) == "invalid_request"


async def test_requested_token_type_jwt_is_issued_as_a_jwt(server):
    response = await exchange(
        server, subject_token=await user_token(server), requested_token_type=TokenTypeIdentifiers.JWT
    )
    assert response.status_code == 200, response.text
    assert response.json()["issued_token_type"] == TokenTypeIdentifiers.JWT


# -- other issuers and may_act ------------------------------------------------------------------------------------


async def test_a_trusted_issuers_token_is_exchanged_and_its_issuer_named_in_act(server, partner):
    now = int(server.clock.timestamp())
    subject = partner.issue(sub="p-42", exp=now + 60)
    actor = partner.issue(sub="partner-service", exp=now + 60)
    response = await exchange(
        server,
        subject_token=subject,
        subject_token_type=TokenTypeIdentifiers.JWT,
        actor_token=actor,
        actor_token_type=TokenTypeIdentifiers.JWT,
        scope="api1",
    )
    assert response.status_code == 200, response.text
    claims = jwt_parts(response.json()["access_token"])[1]
    assert claims["sub"] == "p-42"
    assert claims["act"] == {"sub": "partner-service", "iss": PARTNER}


async def test_another_issuers_token_is_refused_unless_the_client_trusts_it(server, partner):
    now = int(server.clock.timestamp())
    subject = partner.issue(sub="p-42", exp=now + 60)
    response = await exchange(server, "narrow", subject_token=subject, subject_token_type=TokenTypeIdentifiers.JWT)
    assert error_of(response) == "invalid_request"
    expired = partner.issue(sub="p-42", exp=now - 1)
    assert error_of(await exchange(server, subject_token=expired)) == "invalid_request"
    forged = encode_jws({"alg": "ES256"}, {"iss": PARTNER, "sub": "p-42"}, ec.generate_private_key(ec.SECP256R1()))
    assert error_of(await exchange(server, subject_token=forged)) == "invalid_request"
    stranger = encode_jws({"alg": "ES256"}, {"iss": "https://evil.example", "sub": "1"}, partner.key)
    assert error_of(await exchange(server, subject_token=stranger)) == "invalid_request"


async def test_may_act_names_who_may_act_for_the_subject(server, partner):
    now = int(server.clock.timestamp())
    subject = partner.issue(sub="p-42", exp=now + 60, may_act={"sub": "actor1"})
    allowed = await exchange(
        server,
        subject_token=subject,
        actor_token=await client_token(server, "actor1"),
        actor_token_type=ACCESS_TOKEN,
        scope="api1",
    )
    assert allowed.status_code == 200, allowed.text
    refused = await exchange(
        server,
        subject_token=subject,
        actor_token=await client_token(server, "actor2"),
        actor_token_type=ACCESS_TOKEN,
        scope="api1",
    )
    assert error_of(refused) == "invalid_request"
    assert "act for it" in refused.json()["error_description"]
    # impersonation: the client itself must be the party may_act names
    assert error_of(await exchange(server, subject_token=subject, scope="api1")) == "invalid_request"


# -- sender-constrained subject tokens ----------------------------------------------------------------------------


async def test_a_dpop_bound_subject_token_is_accepted_only_with_a_proof_of_its_key(server):
    key = DPoPKey.generate(clock=server.clock)
    subject = await user_token(server, DPoP=key.create_proof("POST", TOKEN_URL))
    assert jwt_parts(subject)[1]["cnf"] == {"jkt": key.thumbprint}
    without = await exchange(server, subject_token=subject)
    assert error_of(without) == "invalid_request" and "DPoP" in without.json()["error_description"]
    other = DPoPKey.generate(clock=server.clock)
    wrong = await exchange(server, subject_token=subject, headers={"DPoP": other.create_proof("POST", TOKEN_URL)})
    assert error_of(wrong) == "invalid_request"
    held = await exchange(server, subject_token=subject, headers={"DPoP": key.create_proof("POST", TOKEN_URL)})
    assert held.status_code == 200, held.text
    assert held.json()["token_type"] == "DPoP"
    assert jwt_parts(held.json()["access_token"])[1]["cnf"] == {"jkt": key.thumbprint}


async def test_a_certificate_bound_subject_token_is_refused_without_its_certificate(server, partner):
    now = int(server.clock.timestamp())
    subject = partner.issue(sub="p-42", exp=now + 60, cnf={"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"})
    response = await exchange(server, subject_token=subject, subject_token_type=TokenTypeIdentifiers.JWT)
    assert error_of(response) == "invalid_request"
    assert "certificate" in response.json()["error_description"]


def self_signed_certificate(name: str) -> bytes:
    """A fresh client certificate (DER), generated for this run."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(Encoding.DER)


def client_cert_header(der: bytes) -> dict[str, str]:
    return {"Client-Cert": ":" + base64.b64encode(der).decode() + ":"}  # RFC 9440 §2.2


async def test_a_certificate_bound_subject_token_is_accepted_only_with_its_certificate(partner, sink):
    config = configuration_with(EXTRA)
    # the in-process client's address is the TLS-terminating proxy whose Client-Cert header is honoured
    config.options = replace(config.options, mutual_tls=MutualTlsOptions(enabled=True, trusted_proxies=(PROXY,)))
    builder = make_builder(config)
    builder.add_item(SubjectTokenValidator, partner)
    async with running(builder) as server:
        holder, other = self_signed_certificate("holder"), self_signed_certificate("other")
        now = int(server.clock.timestamp())
        subject = partner.issue(sub="p-42", exp=now + 60, cnf={"x5t#S256": certificate_thumbprint(holder)})
        jwt_type = {"subject_token_type": TokenTypeIdentifiers.JWT, "scope": "api1"}
        assert error_of(await exchange(server, subject_token=subject, **jwt_type)) == "invalid_request"
        wrong = await exchange(server, headers=client_cert_header(other), subject_token=subject, **jwt_type)
        assert error_of(wrong) == "invalid_request"
        held = await exchange(server, headers=client_cert_header(holder), subject_token=subject, **jwt_type)
        assert held.status_code == 200, held.text
        assert jwt_parts(held.json()["access_token"])[1]["sub"] == "p-42"


# -- events -------------------------------------------------------------------------------------------------------


async def test_every_exchange_raises_an_event(server, sink):
    subject = await user_token(server)
    await exchange(server, subject_token=subject, actor_token=await client_token(server), actor_token_type=ACCESS_TOKEN)
    await exchange(server, subject_token=subject, audience="urn:elsewhere")
    [success] = sink.of_type(TokenExchangeSuccessEvent)
    assert success.client_id == "gateway" and success.subject_id == "1" and success.actor_id == "actor1"
    assert success.delegation_depth == 1 and success.subject_token_type == ACCESS_TOKEN
    [failure] = sink.of_type(TokenExchangeFailureEvent)
    assert failure.client_id == "gateway" and failure.error == "invalid_target"
    assert any(e.grant_type == EXCHANGE for e in sink.of_type(TokenIssuedSuccessEvent))


# -- configuration ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('delegation = "yes"', "token_exchange.delegation must be a boolean"),
        ("impersonation = 1", "token_exchange.impersonation must be a boolean"),
        ("max_delegation_depth = 0", "token_exchange.max_delegation_depth must be a positive integer"),
        ('audiences = "urn:api1"', "token_exchange.audiences must be an array of non-empty strings"),
        ("colour = true", "token_exchange.colour is not a token exchange setting"),
    ],
)
def test_a_wrong_policy_table_is_a_configuration_error_naming_it(table, message):
    text = f"""
[[clients]]
client_id = "g"
client_secrets = ["s"]
allowed_grant_types = ["{EXCHANGE}"]
[clients.token_exchange]
{table}
"""
    with pytest.raises(ConfigError, match=message):
        parse_configuration(tomllib.loads(text), "<test>")


def test_the_policy_survives_the_sql_client_rows():
    table = {"audiences": ["urn:api2"], "impersonation": True, "max_delegation_depth": 3}
    client = Client(client_id="g", token_exchange=table)
    back = client_from_rows(client_to_rows(client, datetime(2026, 1, 1, tzinfo=UTC)))
    assert back.token_exchange == table
    policy = token_exchange_policy(back)
    assert policy.audiences == ("urn:api2",) and policy.impersonation and policy.delegation
    assert policy.max_delegation_depth == 3 and policy.subject_token_issuers == () and policy.scopes is None
