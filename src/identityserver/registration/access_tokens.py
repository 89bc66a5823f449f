"""Registration access tokens (RFC 7592 §3): a bearer credential per registered client for its client configuration
endpoint. Only the SHA-256 of the token reaches the store, as a persisted grant of its own type keyed by that hash
(like reference tokens), so removing a client's grants also removes it."""

from __future__ import annotations

import secrets

from identityserver.clock import Clock
from identityserver.crypto.hashing import constant_time_equals, hashed_grant_key
from identityserver.models.grants import PersistedGrant
from identityserver.stores.protocols import PersistedGrantStore

GRANT_TYPE = "registration_access_token"


class RegistrationAccessTokens:
    def __init__(self, grants: PersistedGrantStore, clock: Clock) -> None:
        self.grants = grants
        self.clock = clock

    async def issue(self, client_id: str) -> str:
        """A new token for the client (256 random bits); the caller hands it out once."""
        token = secrets.token_urlsafe(32)
        await self.grants.store(
            PersistedGrant(
                key=hashed_grant_key(token, GRANT_TYPE),
                type=GRANT_TYPE,
                client_id=client_id,
                creation_time=self.clock.utc_now(),
                data="{}",
                description="RFC 7592 registration access token",
            )
        )
        return token

    async def client_of(self, token: str) -> str | None:
        """The client the token was issued to, or ``None`` for an unknown (or revoked) token."""
        if not token or len(token) > 200:
            return None
        grant = await self.grants.get(hashed_grant_key(token, GRANT_TYPE))
        return grant.client_id if grant is not None and grant.type == GRANT_TYPE else None

    async def is_valid_for(self, token: str, client_id: str) -> bool:
        """Whether the token belongs to this client; one store read whether or not the client exists."""
        owner = await self.client_of(token)
        return constant_time_equals(owner or "", client_id) and owner is not None

    async def take(self, token: str, client_id: str) -> bool:
        """Atomically remove the client's token: of concurrent callers with one token exactly one gets ``True``
        (a rotated token is used once)."""
        if not token or len(token) > 200:
            return False
        grant = await self.grants.take(hashed_grant_key(token, GRANT_TYPE))
        return grant is not None and grant.type == GRANT_TYPE and constant_time_equals(grant.client_id, client_id)

    async def revoke(self, token: str) -> None:
        await self.grants.remove(hashed_grant_key(token, GRANT_TYPE))
