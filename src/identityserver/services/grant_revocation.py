"""Revoking what a grant issued (RFC 9700 §4.14.2, RFC 6749 §10.5): the one service that both the authorization
code service (a replayed code) and the refresh-token service (a reused refresh token) call, so that neither needs
the other.

A JWT access token cannot be deleted, so its ``jti`` goes on a revocation list (a persisted grant that lives
until the token expires) which userinfo and introspection consult. A refresh-token family (every token descended
from the same original grant) is deleted, its access tokens are refused, and the family is marked revoked for a
while so that a refresh in flight produces nothing usable."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from identityserver.clock import Clock
from identityserver.constants import PersistedGrantTypes
from identityserver.crypto.hashing import hashed_grant_key
from identityserver.models.grants import PersistedGrant, PersistedGrantFilter, RefreshToken, Token
from identityserver.services.protocols import GrantRevocationService
from identityserver.stores.protocols import PersistedGrantStore, RefreshTokenStore

REVOKED_ACCESS_TOKEN = "revoked_access_token"
REVOKED_FAMILY = PersistedGrantTypes.REVOKED_REFRESH_TOKEN_FAMILY
#: How long a revoked family is remembered (covers refreshes in flight).
MARKER_LIFETIME = 600


def jti_of(token: Token) -> str | None:
    return next((c.value for c in token.claims if c.type == "jti"), None)


async def revoke_family_on_replay(
    revocation: GrantRevocationService, subject_id: str, client_id: str, family_id: str, session_id: str | None
) -> None:
    """A replayed code or used refresh token: revoke the family unless its revocation is already recorded. The
    revocation reads and decrypts every refresh token of the session at the client, and a replay presented again
    and again must not repeat that. Skipping is safe: the marker is written before that read, and a rotation in
    flight checks it after storing its successor (dead on arrival)."""
    if not await revocation.is_family_revoked(family_id):
        await revocation.revoke_family(subject_id, client_id, family_id, session_id)


class DefaultGrantRevocationService:
    """Duende has no such service (it revokes nothing on code replay); overriding it changes what "revoke the
    family" means for both codes and refresh tokens."""

    def __init__(self, grants: PersistedGrantStore, refresh_tokens: RefreshTokenStore, clock: Clock) -> None:
        self.grants = grants
        self.refresh_tokens = refresh_tokens
        self.clock = clock

    async def revoke_jti(self, jti: str, expiration: int) -> None:
        """Refuse the JWT access token ``jti`` until ``expiration`` (epoch seconds), when it would expire anyway."""
        await self.grants.store(
            PersistedGrant(
                hashed_grant_key(jti, REVOKED_ACCESS_TOKEN),
                REVOKED_ACCESS_TOKEN,
                "-",
                self.clock.utc_now(),
                "{}",
                expiration=datetime.fromtimestamp(expiration, UTC),
            )
        )

    async def is_jti_revoked(self, jti: str) -> bool:
        """Whether the JWT access token with this ``jti`` was revoked."""
        return await self.grants.get(hashed_grant_key(jti, REVOKED_ACCESS_TOKEN)) is not None

    async def revoke_access_tokens(self, token: RefreshToken) -> None:
        """Refuse the JWT access tokens issued with this refresh token and earlier in its family."""
        pending = list(token.earlier_access_tokens)
        access = token.access_tokens.get("")
        jti = jti_of(access) if access is not None else None
        if access is not None and jti:
            pending.append((jti, access.creation_time + access.lifetime))
        for revoked, expiration in pending:
            await self.revoke_jti(revoked, expiration)

    async def revoke_family(self, subject_id: str, client_id: str, family_id: str, session_id: str | None) -> None:
        """Delete the family's refresh tokens, refuse their JWT access tokens, delete the session's reference
        tokens for the client, and mark the family revoked for refreshes in flight."""
        now = self.clock.utc_now()
        await self.grants.store(
            PersistedGrant(
                hashed_grant_key(family_id, REVOKED_FAMILY),
                REVOKED_FAMILY,
                client_id,
                now,
                json.dumps({}),
                subject_id=subject_id,
                expiration=now + timedelta(seconds=MARKER_LIFETIME),
            )
        )
        # a family keeps the session of the grant it began with, so with a session only that session's tokens
        # are read and decrypted, however many other sessions (devices) the user holds with this client
        rows = await self.grants.get_all(
            PersistedGrantFilter(
                subject_id=subject_id,
                client_id=client_id,
                session_id=session_id,
                type=PersistedGrantTypes.REFRESH_TOKEN,
            )
        )
        for row in rows:
            try:
                other = await self.refresh_tokens.deserialize(row.data)
            except ValueError:
                continue
            if other.family_id == family_id:
                await self.grants.remove(row.key)
                await self.revoke_access_tokens(other)
        if session_id:
            await self.grants.remove_all(
                PersistedGrantFilter(
                    subject_id=subject_id,
                    client_id=client_id,
                    session_id=session_id,
                    type=PersistedGrantTypes.REFERENCE_TOKEN,
                )
            )

    async def is_family_revoked(self, family_id: str) -> bool:
        """Whether the refresh-token family was revoked (its later tokens are refused)."""
        return await self.grants.get(hashed_grant_key(family_id, REVOKED_FAMILY)) is not None
