"""Refresh tokens (Duende ``DefaultRefreshTokenService``; RFC 6749 §6, RFC 9700 §4.14).

Lifetimes follow IdentityServer: absolute from the first issuance, or sliding (capped by the absolute
lifetime, 0 = unbounded); creation time is kept across rotations. One-time tokens are claimed atomically.
With ``delete_one_time_only_refresh_tokens_on_use`` (6.3 default) a used token is deleted; otherwise it is
marked consumed, and presenting a consumed token revokes its whole family (every token descended from the
same original grant)."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from identityserver.clock import Clock
from identityserver.constants import PersistedGrantTypes
from identityserver.crypto.hashing import hashed_grant_key
from identityserver.models.claims import Principal
from identityserver.models.client import Client, TokenExpiration, TokenUsage
from identityserver.models.contexts import IsActiveContext, ProfileCallers
from identityserver.models.grants import PersistedGrant, PersistedGrantFilter, ProofType, RefreshToken, Token
from identityserver.options import PersistentGrantOptions
from identityserver.services.protocols import ProfileService
from identityserver.stores.grant_stores import DefaultGrantStore
from identityserver.stores.protocols import PersistedGrantStore

logger = logging.getLogger("identityserver.tokens")
USED_REFRESH_TOKEN = "refresh_token_used"
REVOKED_FAMILY = "refresh_family_revoked"
#: How long a used token's family and a revoked family are remembered (covers refreshes in flight).
MARKER_LIFETIME = 600
SessionValidator = Callable[[str, str | None, Client], Awaitable[bool]]


def _jti_of(token: Token) -> str | None:
    return next((c.value for c in token.claims if c.type == "jti"), None)


@dataclass(slots=True)
class RefreshTokenValidationResult:
    refresh_token: RefreshToken | None = None
    error: str | None = None
    error_description: str | None = None

    @property
    def is_error(self) -> bool:
        return self.error is not None


def _invalid(description: str) -> RefreshTokenValidationResult:
    return RefreshTokenValidationResult(error="invalid_grant", error_description=description)


class DefaultRefreshTokenService:
    def __init__(
        self,
        store: DefaultGrantStore[RefreshToken],
        grants: PersistedGrantStore,
        profile: ProfileService,
        options: PersistentGrantOptions,
        clock: Clock,
    ) -> None:
        self.store = store
        self.grants = grants
        self.profile = profile
        self.options = options
        self.clock = clock
        self.session_validator: SessionValidator | None = None
        self.jti_revoker: Callable[[str, int], Awaitable[None]] | None = None
        """Refuses a JWT access token by ``jti`` until it expires (``AuthorizationCodeService.revoke_jti``)."""
        """Set when server-side sessions coordinate token lifetimes (``DefaultSessionCoordinationService``)."""

    def initial_lifetime(self, client: Client) -> int:
        if client.refresh_token_expiration == TokenExpiration.ABSOLUTE:
            return client.absolute_refresh_token_lifetime
        sliding = client.sliding_refresh_token_lifetime
        absolute = client.absolute_refresh_token_lifetime
        return min(sliding, absolute) if absolute > 0 else sliding

    async def create_refresh_token(
        self,
        subject: Principal,
        access_token: Token,
        client: Client,
        authorized_scopes: list[str],
        resource_indicators: list[str] | None,
        session_id: str | None,
        proof_type: ProofType,
        description: str | None = None,
        family_id: str | None = None,
    ) -> str:
        token = RefreshToken(
            creation_time=int(self.clock.timestamp()),
            lifetime=self.initial_lifetime(client),
            client_id=client.client_id,
            subject=subject,
            authorized_scopes=list(authorized_scopes),
            access_tokens={"": access_token},
            session_id=session_id,
            description=description,
            authorized_resource_indicators=resource_indicators,
            proof_type=proof_type,
            family_id=family_id or secrets.token_hex(16),
        )
        return await self._store(token, None)

    async def _store(self, token: RefreshToken, handle: str | None) -> str:
        lifetime = token.lifetime if token.lifetime > 0 else None
        return await self.store.store_item(
            token,
            token.client_id,
            token.subject.subject_id,
            token.session_id,
            token.description,
            token.creation_time,
            lifetime,
            handle,
        )

    async def validate_refresh_token(
        self, handle: str, client: Client, detect_reuse: bool = True
    ) -> RefreshTokenValidationResult:
        row = await self.grants.get(self.store.get_hashed_key(handle))
        if row is None or row.type != PersistedGrantTypes.REFRESH_TOKEN:
            return _invalid("refresh token is unknown or revoked")
        try:
            token = await self.store.deserialize(row.data)
        except ValueError:
            return _invalid("refresh token cannot be read")
        now = self.clock.timestamp()
        if token.lifetime > 0 and token.creation_time + token.lifetime < now:
            return _invalid("refresh token expired")
        if token.client_id != client.client_id:
            return _invalid("refresh token was issued to another client")
        if not client.allow_offline_access:
            return _invalid("the client may no longer use refresh tokens")
        if row.consumed_time is not None or token.consumed_time is not None:
            if detect_reuse:
                await self.revoke_family(token)  # RFC 9700 §4.14.2: reuse of a rotated token
            return _invalid("refresh token was already used")
        context = IsActiveContext(token.subject, client, ProfileCallers.TOKEN_ENDPOINT)
        await self.profile.is_active(context)
        if not context.is_active:
            return _invalid("the user is not active")
        if self.session_validator is not None and not await self.session_validator(
            token.subject.subject_id, token.session_id, client
        ):
            return _invalid("the user's session has ended")
        return RefreshTokenValidationResult(token)

    async def claim(self, handle: str, token: RefreshToken, client: Client) -> bool:
        """Atomically take a one-time token for this redemption; ``False`` when another request got it."""
        if client.refresh_token_usage != TokenUsage.ONE_TIME_ONLY:
            return True
        if self.options.delete_one_time_only_refresh_tokens_on_use:
            await self._leave_tombstone(handle, token)  # first: a revocation racing this take must find it
            return await self.grants.take(self.store.get_hashed_key(handle)) is not None
        if await self.grants.consume(self.store.get_hashed_key(handle), self.clock.utc_now()) is not None:
            return True
        await self.revoke_family(token)  # a concurrent request consumed it: the same outcome as any reuse
        return False

    async def _leave_tombstone(self, handle: str, token: RefreshToken) -> None:
        """A deleted one-time token leaves its family id for a few minutes, so that revoking it while (or just
        after) it is rotated still revokes the family (RFC 7009 §2.1; security.md §3.1 R7)."""
        if token.family_id is None:
            return
        now = self.clock.utc_now()
        await self.grants.store(PersistedGrant(
            hashed_grant_key(handle, USED_REFRESH_TOKEN), USED_REFRESH_TOKEN, token.client_id, now,
            json.dumps({"FamilyId": token.family_id}), subject_id=token.subject.subject_id,
            session_id=token.session_id, expiration=now + timedelta(seconds=MARKER_LIFETIME)))

    async def family_of_used_token(self, handle: str, client_id: str) -> tuple[str, str, str | None] | None:
        """``(subject_id, family_id, session_id)`` of a recently rotated-away token of this client."""
        row = await self.grants.get(hashed_grant_key(handle, USED_REFRESH_TOKEN))
        if row is None or row.client_id != client_id or not row.subject_id:
            return None
        try:
            family = json.loads(row.data)["FamilyId"]
        except (ValueError, KeyError, TypeError):
            return None
        return row.subject_id, str(family), row.session_id

    async def rotate(self, handle: str, token: RefreshToken, client: Client, access_token: Token) -> str | None:
        """Store the successor first, then claim the presented token (security.md §3.2 F2: when the store fails
        the old token still works on retry). ``None`` when another request claimed the token first: the
        successor is then discarded."""
        # claim() may revoke the family; keep the current access token aside to revoke the successor's too
        successor = await self.update_refresh_token(handle, token, client, access_token)
        if not await self.claim(handle, token, client):
            if successor != handle:
                await self.remove_refresh_token(successor)
            await self.revoke_access_token(token)
            return None
        if token.family_id and await self.grants.get(hashed_grant_key(token.family_id, REVOKED_FAMILY)):
            await self.revoke_family(token)  # revoked while this refresh was in flight: dead on arrival
        return successor

    async def update_refresh_token(self, handle: str, token: RefreshToken, client: Client, access_token: Token) -> str:
        """Store the successor (one-time) or the slid token (reuse); return the handle the client gets."""
        now = int(self.clock.timestamp())
        if client.refresh_token_expiration == TokenExpiration.SLIDING:
            lifetime = now - token.creation_time + client.sliding_refresh_token_lifetime
            absolute = client.absolute_refresh_token_lifetime
            token.lifetime = min(lifetime, absolute) if absolute > 0 else lifetime
        previous = token.access_tokens.get("")
        earlier = [(jti, exp) for jti, exp in token.earlier_access_tokens if exp > now]
        if previous is not None:
            jti = _jti_of(previous)
            if jti and previous.creation_time + previous.lifetime > now:
                earlier.append((jti, previous.creation_time + previous.lifetime))
        token.earlier_access_tokens = earlier[-50:]
        token.access_tokens = {"": access_token}
        if client.refresh_token_usage == TokenUsage.ONE_TIME_ONLY:
            return await self._store(token, None)
        return await self._store(token, handle)

    async def revoke_family(self, token: RefreshToken) -> None:
        """Revoke every token descended from the same original grant (RFC 9700 §4.14.2)."""
        await self.revoke_access_token(token)
        if token.family_id is not None:
            await self.revoke_family_by_id(token.subject.subject_id, token.client_id, token.family_id,
                                           token.session_id)

    async def revoke_family_by_id(self, subject_id: str, client_id: str, family_id: str,
                                  session_id: str | None) -> None:
        """Delete the family's refresh tokens, refuse their JWT access tokens, delete the session's reference
        tokens for the client, and mark the family revoked for refreshes in flight."""
        now = self.clock.utc_now()
        await self.grants.store(PersistedGrant(
            hashed_grant_key(family_id, REVOKED_FAMILY), REVOKED_FAMILY, client_id, now, "{}", subject_id=subject_id,
            expiration=now + timedelta(seconds=MARKER_LIFETIME)))
        rows = await self.grants.get_all(PersistedGrantFilter(subject_id=subject_id, client_id=client_id,
                                                              type=PersistedGrantTypes.REFRESH_TOKEN))
        for row in rows:
            try:
                other = await self.store.deserialize(row.data)
            except ValueError:
                continue
            if other.family_id == family_id:
                await self.grants.remove(row.key)
                await self.revoke_access_token(other)
        if session_id:
            await self.grants.remove_all(PersistedGrantFilter(subject_id=subject_id, client_id=client_id,
                                                              session_id=session_id,
                                                              type=PersistedGrantTypes.REFERENCE_TOKEN))

    async def revoke_access_token(self, token: RefreshToken) -> None:
        """Put the JWT access tokens issued with this refresh token (and earlier in its family) on the
        revocation list."""
        if self.jti_revoker is None:
            return
        access = token.access_tokens.get("")
        pending = list(token.earlier_access_tokens)
        jti = _jti_of(access) if access is not None else None
        if access is not None and jti:
            pending.append((jti, access.creation_time + access.lifetime))
        for jti, expiration in pending:
            await self.jti_revoker(jti, expiration)

    async def remove_refresh_token(self, handle: str) -> None:
        await self.store.remove_item(handle)
