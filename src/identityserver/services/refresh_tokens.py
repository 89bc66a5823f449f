"""Refresh tokens (Duende ``DefaultRefreshTokenService``; RFC 6749 §6, RFC 9700 §4.14).

Lifetimes follow IdentityServer: absolute from the first issuance, or sliding (capped by the absolute
lifetime, 0 = unbounded); creation time is kept across rotations. One-time tokens are claimed atomically.
With ``delete_one_time_only_refresh_tokens_on_use`` (6.3 default) a used token is deleted and leaves a
tombstone (its hashed handle and family id) until it would have expired; otherwise it is marked consumed. Either
way presenting a used token again revokes its whole family (every token descended from the same original grant;
RFC 9700 §4.14.2), unless it comes within ``refresh_token_reuse_grace_period`` of the first use."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from identityserver.clock import Clock
from identityserver.constants import PersistedGrantTypes
from identityserver.crypto.hashing import hashed_grant_key
from identityserver.models.claims import Principal
from identityserver.models.client import Client, TokenExpiration, TokenUsage
from identityserver.models.contexts import IsActiveContext, ProfileCallers
from identityserver.models.grants import PersistedGrant, ProofType, RefreshToken, Token
from identityserver.options import PersistentGrantOptions
from identityserver.services.grant_revocation import DefaultGrantRevocationService, jti_of
from identityserver.services.protocols import GrantRevocationService, ProfileService
from identityserver.stores.protocols import PersistedGrantStore, RefreshTokenStore

logger = logging.getLogger("identityserver.tokens")
USED_REFRESH_TOKEN = PersistedGrantTypes.USED_REFRESH_TOKEN
#: How long the tombstone of a token that never expires is kept (IdentityServer's default absolute lifetime):
#: a replay later than this is refused as unknown, without revoking the family.
UNBOUNDED_TOMBSTONE_LIFETIME = 2592000
SessionValidator = Callable[[str, str | None, Client], Awaitable[bool]]


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


@dataclass(frozen=True, slots=True)
class UsedRefreshToken:
    """What the tombstone of a deleted one-time refresh token remembers."""

    subject_id: str
    family_id: str
    session_id: str | None
    used_at: datetime


def _columns(token: RefreshToken) -> tuple[str, str, str | None, str | None, int, int | None]:
    """What the grant store keeps of a refresh token beside its payload: client, subject, session, description,
    creation time and lifetime (``None``: it never expires)."""
    lifetime = token.lifetime if token.lifetime > 0 else None
    return (
        token.client_id,
        token.subject.subject_id,
        token.session_id,
        token.description,
        token.creation_time,
        lifetime,
    )


class DefaultRefreshTokenService:
    """The default ``RefreshTokenService``: lifetimes, rotation, reuse detection and family revocation as the module
    describes; override a method to change the policy."""

    def __init__(
        self,
        store: RefreshTokenStore,
        grants: PersistedGrantStore,
        profile: ProfileService,
        options: PersistentGrantOptions,
        clock: Clock,
        session_validator: SessionValidator | None = None,
        revocation: GrantRevocationService | None = None,
    ) -> None:
        self.store = store
        self.grants = grants
        self.profile = profile
        self.options = options
        self.clock = clock
        self.session_validator = session_validator
        """Given when server-side sessions coordinate token lifetimes (``SessionCoordinationService``)."""
        self.revocation: GrantRevocationService = revocation or DefaultGrantRevocationService(grants, store, clock)
        """Revokes families and their access tokens (shared with the authorization code service)."""

    def initial_lifetime(self, client: Client) -> int:
        """The lifetime of a new token: absolute, or sliding capped by the absolute lifetime (0 = unbounded)."""
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
        """Store a refresh token for the grant (a new family unless ``family_id``) and return its handle."""
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
        return await self.store.store_item(token, *_columns(token), handle)

    async def validate_refresh_token(
        self, handle: str, client: Client, detect_reuse: bool = True
    ) -> RefreshTokenValidationResult:
        """The stored token when it is valid for ``client``: unexpired, of this client (still allowed offline access),
        unused, the user active and (coordinated clients) the session alive; presenting a used token revokes its family
        when ``detect_reuse``."""
        row = await self.grants.get(self.store.get_hashed_key(handle))
        if row is None or row.type != PersistedGrantTypes.REFRESH_TOKEN:
            if detect_reuse and await self._replay_of_deleted_token(handle, client):
                return _invalid("refresh token was already used")
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
                used_at = row.consumed_time
                if used_at is None and token.consumed_time is not None:
                    used_at = datetime.fromtimestamp(token.consumed_time, UTC)
                await self._reused(token, used_at)
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

    async def claim(self, handle: str, token: RefreshToken, client: Client, expiration: datetime | None = None) -> bool:
        """Atomically take a one-time token for this redemption; ``False`` when another request got it (a reuse).
        ``expiration``: when the presented token expires (before a sliding rotation extended ``token``)."""
        if client.refresh_token_usage != TokenUsage.ONE_TIME_ONLY:
            return True
        key = self.store.get_hashed_key(handle)
        if self.options.delete_one_time_only_refresh_tokens_on_use:
            if token.family_id is None:  # stored before families: nothing to remember it by
                if await self.grants.take(key) is not None:
                    return True
            # the token becomes its tombstone in one step: a revocation racing this take, and a replay after it,
            # find one or the other, never neither
            elif await self.grants.replace(key, self._tombstone(handle, token, token.family_id, expiration)):
                return True
        elif await self.grants.consume(key, self.clock.utc_now()) is not None:
            return True
        # another request used it while this one was in flight: the same outcome as any reuse
        await self._reused(token, self.clock.utc_now())
        return False

    def expiration_of(self, token: RefreshToken) -> datetime:
        """When the token expires; for one that never does, the end of ``UNBOUNDED_TOMBSTONE_LIFETIME``."""
        if token.lifetime > 0:
            return datetime.fromtimestamp(token.creation_time + token.lifetime, UTC)
        return self.clock.utc_now() + timedelta(seconds=UNBOUNDED_TOMBSTONE_LIFETIME)

    def _tombstone(
        self, handle: str, token: RefreshToken, family_id: str, expiration: datetime | None
    ) -> PersistedGrant:
        """What a deleted one-time token leaves: its family id under a hash of its handle until it would have
        expired, so that a replay revokes the family (RFC 9700 §4.14.2) and revoking it while (or after) it is
        rotated still revokes the family (RFC 7009 §2.1; security.md §3.1 R7). Its creation time is the use."""
        return PersistedGrant(
            hashed_grant_key(handle, USED_REFRESH_TOKEN),
            USED_REFRESH_TOKEN,
            token.client_id,
            self.clock.utc_now(),
            json.dumps({"FamilyId": family_id}),
            subject_id=token.subject.subject_id,
            session_id=token.session_id,
            expiration=expiration or self.expiration_of(token),
        )

    async def used_token(self, handle: str, client_id: str) -> UsedRefreshToken | None:
        """The tombstone of a rotated-away (deleted) one-time token of this client, if it has not expired."""
        row = await self.grants.get(hashed_grant_key(handle, USED_REFRESH_TOKEN))
        if row is None or row.type != USED_REFRESH_TOKEN or row.client_id != client_id or not row.subject_id:
            return None
        if row.expiration is not None and row.expiration < self.clock.utc_now():
            return None  # not yet removed by the token cleanup
        try:
            family = json.loads(row.data)["FamilyId"]
        except (ValueError, KeyError, TypeError):
            return None
        return UsedRefreshToken(row.subject_id, str(family), row.session_id, row.creation_time)

    async def family_of_used_token(self, handle: str, client_id: str) -> tuple[str, str, str | None] | None:
        """``(subject_id, family_id, session_id)`` of a rotated-away token of this client."""
        used = await self.used_token(handle, client_id)
        return None if used is None else (used.subject_id, used.family_id, used.session_id)

    def _within_grace_period(self, used_at: datetime | None) -> bool:
        grace = self.options.refresh_token_reuse_grace_period
        return grace > 0 and used_at is not None and self.clock.utc_now() - used_at < timedelta(seconds=grace)

    async def _reused(self, token: RefreshToken, used_at: datetime | None) -> None:
        """RFC 9700 §4.14.2: a used token presented again revokes its family, unless within the grace period
        after its use (a client's own concurrent refreshes)."""
        if self._within_grace_period(used_at):
            return
        logger.warning("refresh token reuse by client %s: token family revoked", token.client_id)
        await self.revoke_family(token)

    async def _replay_of_deleted_token(self, handle: str, client: Client) -> bool:
        """A deleted one-time token presented again, recognised by its tombstone; revokes its family unless
        within the grace period. ``False`` when the handle is not a used token of this client."""
        used = await self.used_token(handle, client.client_id)
        if used is None:
            return False
        if not self._within_grace_period(used.used_at):
            logger.warning("refresh token reuse by client %s: token family revoked", client.client_id)
            # once revoked, the same replay again is refused without reading the session again (the marker:
            # grant_revocation.revoke_family_on_replay); revoke_family_by_id stays the slot that revokes
            if not await self.revocation.is_family_revoked(used.family_id):
                await self.revoke_family_by_id(used.subject_id, client.client_id, used.family_id, used.session_id)
        return True

    async def rotate(self, handle: str, token: RefreshToken, client: Client, access_token: Token) -> str | None:
        """Store the successor and claim the presented token: in one atomic step where the presented token becomes
        its tombstone, else the successor first (security.md §3.2 F2: when the store fails the old token still
        works on retry). ``None`` when another request claimed the token first: no successor is then kept."""
        expiration = self.expiration_of(token)  # the presented token's, before sliding extends it
        family_id = token.family_id
        if (
            family_id is not None
            and client.refresh_token_usage == TokenUsage.ONE_TIME_ONLY
            and self.options.delete_one_time_only_refresh_tokens_on_use
            # a subclass's own update_refresh_token (Duende's UpdateRefreshTokenAsync) is still what stores it
            and type(self).update_refresh_token is DefaultRefreshTokenService.update_refresh_token
        ):
            successor: str | None = await self._rotate_in_one_step(
                handle, token, family_id, client, access_token, expiration
            )
        else:
            successor = await self.update_refresh_token(handle, token, client, access_token)
            if not await self.claim(handle, token, client, expiration):
                if successor != handle:
                    await self.remove_refresh_token(successor)
                successor = None
        if successor is None:
            # the claim may have revoked the family; the successor's access token goes too
            await self.revoke_access_token(token)
            return None
        if token.family_id and await self.revocation.is_family_revoked(token.family_id):
            await self.revoke_family(token)  # revoked while this refresh was in flight: dead on arrival
        return successor

    async def _rotate_in_one_step(
        self,
        handle: str,
        token: RefreshToken,
        family_id: str,
        client: Client,
        access_token: Token,
        expiration: datetime,
    ) -> str | None:
        """The presented token becomes its tombstone and the successor is stored, as one step of the store (one
        statement on PostgreSQL, one transaction on SQLite): both or neither, so a lost race leaves nothing to
        discard. The successor's handle, or ``None`` when another request took the token first (a reuse)."""
        self._advance(token, client, access_token)
        successor, row = await self.store.new_item(token, *_columns(token))
        key = self.store.get_hashed_key(handle)
        if await self.grants.replace(key, self._tombstone(handle, token, family_id, expiration), row):
            return successor
        await self._reused(token, self.clock.utc_now())
        return None

    async def update_refresh_token(self, handle: str, token: RefreshToken, client: Client, access_token: Token) -> str:
        """Store the successor (one-time) or the slid token (reuse); return the handle the client gets."""
        self._advance(token, client, access_token)
        if client.refresh_token_usage == TokenUsage.ONE_TIME_ONLY:
            return await self._store(token, None)
        return await self._store(token, handle)

    def _advance(self, token: RefreshToken, client: Client, access_token: Token) -> None:
        """The token as its successor (or its slid self): a sliding lifetime extended, the new access token in
        place of the previous one, whose ``jti`` joins those a family revocation refuses."""
        now = int(self.clock.timestamp())
        if client.refresh_token_expiration == TokenExpiration.SLIDING:
            lifetime = now - token.creation_time + client.sliding_refresh_token_lifetime
            absolute = client.absolute_refresh_token_lifetime
            token.lifetime = min(lifetime, absolute) if absolute > 0 else lifetime
        previous = token.access_tokens.get("")
        earlier = [(jti, exp) for jti, exp in token.earlier_access_tokens if exp > now]
        if previous is not None:
            jti = jti_of(previous)
            if jti and previous.creation_time + previous.lifetime > now:
                earlier.append((jti, previous.creation_time + previous.lifetime))
        token.earlier_access_tokens = earlier[-50:]
        token.access_tokens = {"": access_token}

    async def revoke_family(self, token: RefreshToken) -> None:
        """Revoke every token descended from the same original grant (RFC 9700 §4.14.2)."""
        await self.revoke_access_token(token)
        if token.family_id is not None:
            await self.revoke_family_by_id(token.subject.subject_id, token.client_id, token.family_id, token.session_id)

    async def revoke_family_by_id(
        self, subject_id: str, client_id: str, family_id: str, session_id: str | None
    ) -> None:
        """Revoke every token of the family (RFC 9700 §4.14.2)."""
        await self.revocation.revoke_family(subject_id, client_id, family_id, session_id)

    async def revoke_access_token(self, token: RefreshToken) -> None:
        """Refuse the JWT access tokens issued with this refresh token (and earlier in its family)."""
        await self.revocation.revoke_access_tokens(token)

    async def remove_refresh_token(self, handle: str) -> None:
        """Delete the token (revocation, RFC 7009 §2.1)."""
        await self.store.remove_item(handle)
