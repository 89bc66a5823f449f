"""ClientStore behaviour (``identityserver.testing.contracts.clients``) on every backend, and what only the SQL
store does: every 6.3 property survives the round trip through IdentityServer's tables."""

from __future__ import annotations

from identityserver.models.client import Client, ClientClaim
from identityserver.testing.backends import SqlStoreFactory
from identityserver.testing.contracts import ClientRegistrationStoreContract, ClientStoreContract


class TestClientStore(ClientStoreContract):
    pass


class TestClientRegistrationStore(ClientRegistrationStoreContract):
    pass


async def test_client_claims_come_back_as_strings_because_the_table_has_no_value_type(sql_backend):
    store = await SqlStoreFactory(sql_backend.db).client_store([Client("c", claims=[ClientClaim("n", "1", "integer")])])
    found = await store.find_client_by_id("c")
    assert found is not None and found.claims == [ClientClaim("n", "1", "string")]
