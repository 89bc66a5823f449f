"""Regressions found by an adversarial review of token exchange (RFC 8693): an ID token is the client's proof of
the user's authentication (OIDC Core §2, ``aud`` = that client), so only that client may exchange it."""

from __future__ import annotations

from identityserver.models.claims import Claim, Principal
from identityserver.models.resources import ResourceValidationResult
from identityserver.services.token_service import TokenCreationRequest
from tests.validation.test_token_exchange import (  # the fixtures are used by name
    ID_TOKEN,
    TokenTypeIdentifiers,
    error_of,
    exchange,
    jwt_parts,
    partner,
    server,
    sink,
)

__all__ = ["partner", "server", "sink"]


async def id_token_for(server, client_id: str) -> str:
    services = server.services
    client = await services.clients.find_client_by_id(client_id)
    assert client is not None
    subject = Principal([Claim("sub", "1"), Claim("auth_time", "1700000000"), Claim("idp", "local")])
    return await services.token_service.create_security_token(
        await services.token_service.create_identity_token(
            TokenCreationRequest(client, server.issuer, ResourceValidationResult(), subject, nonce="n")
        )
    )


async def test_another_clients_id_token_cannot_be_exchanged_for_access_tokens(server):
    foreign = await id_token_for(server, "te.user")
    impersonation = await exchange(server, subject_token=foreign, subject_token_type=ID_TOKEN, scope="api1")
    assert error_of(impersonation) == "invalid_request"
    assert "issued to another client" in impersonation.json()["error_description"]
    # nor as a JWT, nor by delegating to itself with the same ID token as actor
    as_jwt = await exchange(server, subject_token=foreign, subject_token_type=TokenTypeIdentifiers.JWT, scope="api1")
    assert error_of(as_jwt) == "invalid_request"
    delegated = await exchange(
        server,
        "delegate.only",
        subject_token=foreign,
        subject_token_type=ID_TOKEN,
        actor_token=foreign,
        actor_token_type=ID_TOKEN,
        scope="api1",
    )
    assert error_of(delegated) == "invalid_request"


async def test_the_client_an_id_token_was_issued_to_may_exchange_it(server):
    own = await id_token_for(server, "gateway")
    response = await exchange(server, subject_token=own, subject_token_type=ID_TOKEN, scope="api1")
    assert response.status_code == 200, response.text
    assert jwt_parts(response.json()["access_token"])[1]["sub"] == "1"
