"""Authorization codes: one-time redemption and replay handling (RFC 6749 §4.1.2, §10.5; RFC 9700 §4.5).

A redeemed code is marked consumed, atomically, so that of N parallel redemptions exactly one wins. When a
consumed code comes back, every token issued from it is revoked: refresh and reference tokens are deleted and
the JWT access token's ``jti`` is put on a revocation list that userinfo and introspection consult.

What a replay revokes is derived from the code where it can be: the refresh-token family (``family_id``) and the
JWT's ``jti`` (``access_token_jti``). Only a redemption that issued something else (a reference token, or a JWT
that a custom token service gave its own ``jti`` or a lifetime past ``DERIVED_JTI_REVOCATION``) writes a record of
it. Either way the redemption stores its tokens and then looks for the replay's marker, and the replay writes its
marker and then looks for the tokens, so a replay racing the first redemption is still caught.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from identityserver.clock import Clock
from identityserver.crypto.hashing import hashed_grant_key
from identityserver.models.grants import AuthorizationCode, PersistedGrant
from identityserver.services.grant_revocation import revoke_family_on_replay
from identityserver.services.protocols import GrantRevocationService
from identityserver.stores.protocols import AuthorizationCodeStore, PersistedGrantStore

ISSUED = "authorization_code_issued"
REPLAYED = "authorization_code_replayed"
ACCESS_TOKEN_JTI = "authorization_code_access_token_jti"
#: A replay refuses the derived ``jti`` until this long after the code was created; an access token that lives
#: longer is recorded as issued instead.
DERIVED_JTI_REVOCATION = 86400


def access_token_jti(handle: str) -> str:
    """The ``jti`` of the JWT access token that the code's redemption issues: derived one-way from the code, so
    that a replay can revoke the token without a record of it. Of the form of ``new_jti``."""
    return hashlib.sha256(f"{handle}:{ACCESS_TOKEN_JTI}".encode()).hexdigest()[:32].upper()


@dataclass(slots=True)
class IssuedTokens:
    """Handles of what one code redemption produced (hashed keys, never raw handles)."""

    refresh_token_key: str | None = None
    reference_token_key: str | None = None
    access_token_jti: str | None = None
    access_token_expiration: int | None = None


@dataclass(slots=True)
class CodeRedemption:
    code: AuthorizationCode | None
    replayed: bool = False


class DefaultAuthorizationCodeService:
    """The default ``AuthorizationCodeService``: one-time codes in the grant store; a replayed code revokes what its
    first redemption issued (RFC 6749 §4.1.2, §10.5)."""

    def __init__(
        self,
        codes: AuthorizationCodeStore,
        grants: PersistedGrantStore,
        clock: Clock,
        revocation: GrantRevocationService,
    ) -> None:
        self.codes = codes
        self.grants = grants
        self.clock = clock
        self.revocation = revocation
        """Revokes the refresh-token family and access tokens a replayed code issued."""

    async def create(self, code: AuthorizationCode) -> str:
        """Store the code and return its handle."""
        return await self.codes.store_item(
            code,
            code.client_id,
            code.subject.subject_id,
            code.session_id,
            code.description,
            code.creation_time,
            code.lifetime,
        )

    def family_id(self, handle: str) -> str:
        """The refresh-token family of everything issued from this code (derived, so a replay can find it)."""
        return self.codes.get_hashed_key(handle)[:32].lower()

    async def redeem(self, handle: str) -> CodeRedemption:
        """Consume the code. A second presentation is a replay: it revokes what the first one issued."""
        found = await self.codes.consume_item(handle)
        if found is not None:
            return CodeRedemption(found[0])
        row = await self.grants.get(self.codes.get_hashed_key(handle))
        if row is None or row.consumed_time is None:
            return CodeRedemption(None)
        await self._mark(handle, REPLAYED, row.client_id, row.subject_id, "{}")
        issued = await self._read_issued(handle)
        if issued is not None:
            await self.revoke(issued)
        else:
            until = int(row.creation_time.timestamp()) + DERIVED_JTI_REVOCATION
            if until > self.clock.timestamp():
                await self.revoke_jti(access_token_jti(handle), until)
        if row.subject_id:
            await revoke_family_on_replay(
                self.revocation, row.subject_id, row.client_id, self.family_id(handle), row.session_id
            )
        return CodeRedemption(None, replayed=True)

    async def record_issued(self, handle: str, code: AuthorizationCode, issued: IssuedTokens) -> None:
        """Remember what the winning redemption issued, unless a replay can derive it; revoke it at once if a
        replay got in first."""
        if not self.replay_derives(handle, code, issued):
            await self._write_issued(handle, code, issued)
        if await self.grants.get(hashed_grant_key(handle, REPLAYED)) is not None:
            await self.revoke(issued)

    def replay_derives(self, handle: str, code: AuthorizationCode, issued: IssuedTokens) -> bool:
        """Whether a replay revokes everything issued without a record: no reference token, the refresh token in
        the code's family, and a JWT with the derived ``jti`` that expires within ``DERIVED_JTI_REVOCATION``."""
        if issued.reference_token_key is not None or not code.subject.subject_id:
            return False
        if issued.access_token_jti is None:
            return True
        return (
            issued.access_token_jti == access_token_jti(handle)
            and (issued.access_token_expiration or 0) <= code.creation_time + DERIVED_JTI_REVOCATION
        )

    async def _write_issued(self, handle: str, code: AuthorizationCode, issued: IssuedTokens) -> None:
        data = json.dumps(
            {
                "RefreshTokenKey": issued.refresh_token_key,
                "ReferenceTokenKey": issued.reference_token_key,
                "Jti": issued.access_token_jti,
                "AccessTokenExpiration": issued.access_token_expiration,
            }
        )
        await self._mark(
            handle,
            ISSUED,
            code.client_id,
            code.subject.subject_id,
            data,
            lifetime=max(code.lifetime, (issued.access_token_expiration or 0) - int(self.clock.timestamp())),
        )

    async def revoke(self, issued: IssuedTokens) -> None:
        """Revoke what a code issued: delete its refresh and reference tokens, refuse its JWT's ``jti``."""
        if issued.refresh_token_key:
            await self.grants.remove(issued.refresh_token_key)
        if issued.reference_token_key:
            await self.grants.remove(issued.reference_token_key)
        if issued.access_token_jti and issued.access_token_expiration:
            await self.revoke_jti(issued.access_token_jti, issued.access_token_expiration)

    async def revoke_jti(self, jti: str, expiration: int) -> None:
        """Refuse the JWT access token with this ``jti`` until it would have expired."""
        await self.revocation.revoke_jti(jti, expiration)

    async def is_jti_revoked(self, jti: str) -> bool:
        """Whether the JWT access token with this ``jti`` was revoked."""
        return await self.revocation.is_jti_revoked(jti)

    async def _read_issued(self, handle: str) -> IssuedTokens | None:
        row = await self.grants.get(hashed_grant_key(handle, ISSUED))
        if row is None:
            return None
        try:
            data = json.loads(row.data)
        except ValueError:
            return None
        return IssuedTokens(
            data.get("RefreshTokenKey"),
            data.get("ReferenceTokenKey"),
            data.get("Jti"),
            data.get("AccessTokenExpiration"),
        )

    async def _mark(
        self, handle: str, kind: str, client_id: str, subject_id: str | None, data: str, lifetime: int = 3600
    ) -> None:
        now = self.clock.utc_now()
        await self.grants.store(
            PersistedGrant(
                hashed_grant_key(handle, kind),
                kind,
                client_id,
                now,
                data,
                subject_id=subject_id,
                expiration=datetime.fromtimestamp(now.timestamp() + max(lifetime, 60), UTC),
            )
        )
