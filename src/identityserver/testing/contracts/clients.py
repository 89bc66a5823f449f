"""``ClientStore`` contract (Duende ``ClientStoreTests``, ``ClientMappersTests``): every 6.3 client property
survives the round trip through the store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from identityserver.clock import monotonic
from identityserver.models.client import (
    AccessTokenType,
    Client,
    ClientClaim,
    DPoPTokenExpirationValidationMode,
    Secret,
    TokenExpiration,
    TokenUsage,
)
from identityserver.testing.factory import StoreFactory


def full_client() -> Client:
    """A client with every property set to a value other than its default."""
    return Client(
        client_id="full",
        enabled=False,
        protocol_type="oidc",
        client_secrets=[
            Secret("hash1", description="first", expiration=datetime(2030, 1, 1, tzinfo=UTC)),
            Secret('{"kty":"EC"}', "JWK"),
        ],
        require_client_secret=False,
        client_name="Full client ✓",
        description="d" * 1000,
        client_uri="https://c.example/" + "u" * 1900,
        logo_uri="https://c.example/logo.png",
        require_consent=True,
        allow_remember_consent=False,
        allowed_grant_types=["authorization_code", "client_credentials"],
        require_pkce=False,
        allow_plain_text_pkce=True,
        require_request_object=True,
        allow_access_tokens_via_browser=True,
        require_dpop=True,
        dpop_validation_mode=DPoPTokenExpirationValidationMode.IAT | DPoPTokenExpirationValidationMode.NONCE,
        dpop_clock_skew=90061,
        redirect_uris=["https://c.example/cb", "https://c.example/cb2"],
        post_logout_redirect_uris=["https://c.example/out"],
        front_channel_logout_uri="https://c.example/fc",
        front_channel_logout_session_required=False,
        back_channel_logout_uri="https://c.example/bc",
        back_channel_logout_session_required=False,
        allow_offline_access=True,
        allowed_scopes=["openid", "api1"],
        always_include_user_claims_in_id_token=True,
        identity_token_lifetime=1,
        allowed_identity_token_signing_algorithms=["RS256", "ES256"],
        access_token_lifetime=2,
        authorization_code_lifetime=3,
        absolute_refresh_token_lifetime=4,
        sliding_refresh_token_lifetime=5,
        consent_lifetime=6,
        refresh_token_usage=TokenUsage.RE_USE,
        update_access_token_claims_on_refresh=True,
        refresh_token_expiration=TokenExpiration.SLIDING,
        access_token_type=AccessTokenType.REFERENCE,
        enable_local_login=False,
        identity_provider_restrictions=["google"],
        include_jwt_id=False,
        claims=[ClientClaim("tenant", "acme"), ClientClaim("role", "a"), ClientClaim("role", "b")],
        always_send_client_claims=True,
        client_claims_prefix=None,
        pair_wise_subject_salt="salt",
        user_sso_lifetime=7,
        user_code_type="Numeric",
        device_code_lifetime=8,
        ciba_lifetime=9,
        polling_interval=10,
        coordinate_lifetime_with_user_session=True,
        allowed_cors_origins=["https://c.example"],
        initiate_login_uri="https://c.example/login",
        properties={"k": "v", "unicode": "ünï"},
        token_endpoint_auth_method="client_secret_post",
    )


class ClientStoreContract:
    """Needs ``store_factory.client_store``."""

    pytestmark = pytest.mark.asyncio

    async def test_find_client_by_id_when_client_does_not_exist_expect_null(self, store_factory: StoreFactory) -> None:
        store = await store_factory.client_store([Client("other")])
        assert await store.find_client_by_id("missing") is None

    async def test_find_client_by_id_when_client_exists_expect_client_returned(
        self, store_factory: StoreFactory
    ) -> None:
        store = await store_factory.client_store([Client("c1", client_name="One"), Client("c2")])
        found = await store.find_client_by_id("c1")
        assert found == Client("c1", client_name="One")

    async def test_find_client_by_id_when_client_exists_with_collections_expect_client_returned_collections(
        self, store_factory: StoreFactory
    ) -> None:
        client = full_client()
        store = await store_factory.client_store([client])
        assert await store.find_client_by_id("full") == client

    async def test_find_client_by_id_when_clients_exist_with_many_collections_expect_client_returned_in_under_five_seconds(  # noqa: E501
        self, store_factory: StoreFactory
    ) -> None:
        many = Client(
            "big",
            allowed_scopes=[f"scope{i}" for i in range(200)],
            redirect_uris=[f"https://x/{i}" for i in range(200)],
        )
        store = await store_factory.client_store([many, *[Client(f"c{i}") for i in range(50)]])
        started = monotonic()
        found = await store.find_client_by_id("big")
        assert found is not None and len(found.allowed_scopes) == 200
        assert monotonic() - started < 5
