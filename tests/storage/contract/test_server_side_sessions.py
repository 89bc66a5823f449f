"""ServerSideSessionStore behaviour (``identityserver.testing.contracts.server_side_sessions``) on every
backend."""

from __future__ import annotations

from identityserver.testing.contracts import ServerSideSessionStoreContract


class TestServerSideSessionStore(ServerSideSessionStoreContract):
    pass
