"""Revocation (Duende ``TokenRevocationResponseGenerator``): removes the token if it belongs to the client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from identityserver.models.client import Client
from identityserver.services.protocols import RefreshTokenService
from identityserver.stores.protocols import ReferenceTokenStore

Revoker = Callable[[Client, str], Awaitable[bool]]


class TokenRevocationResponseGenerator:
    """Tries each token kind (hint first). ``revokers`` maps a kind to a coroutine returning True if revoked."""

    def __init__(self, reference_tokens: ReferenceTokenStore, refresh_tokens: RefreshTokenService) -> None:
        self.reference_tokens = reference_tokens
        self.refresh_tokens = refresh_tokens
        self.revokers: dict[str, Revoker] = {
            "access_token": self.revoke_access_token,
            "refresh_token": self.revoke_refresh_token,
        }

    async def process(self, client: Client, token: str, hint: str | None) -> str | None:
        """Return the kind of token revoked, or ``None`` when nothing matched."""
        order = list(self.revokers)
        if hint in self.revokers:
            order.remove(hint)
            order.insert(0, hint)
        for kind in order:
            if await self.revokers[kind](client, token):
                return kind
        return None

    async def revoke_access_token(self, client: Client, token: str) -> bool:
        """Only reference tokens can be revoked; a JWT stays valid until it expires."""
        if len(token) > 100 or token.count(".") == 2:
            return False
        found = await self.reference_tokens.get_item(token)
        if found is None or found[0].client_id != client.client_id:
            return False
        await self.reference_tokens.remove_item(token)
        return True

    async def revoke_refresh_token(self, client: Client, token: str) -> bool:
        """RFC 7009 §2.1: revoking a refresh token also revokes the tokens of the same grant."""
        if len(token) > 100:
            return False
        found = await self.refresh_tokens.store.get_item(token)
        if found is None:
            used = await self.refresh_tokens.family_of_used_token(token, client.client_id)
            if used is None:
                return False
            subject_id, family_id, session_id = used  # rotated away moments ago: revoke what replaced it
            await self.refresh_tokens.revoke_family_by_id(subject_id, client.client_id, family_id, session_id)
            return True
        if found[0].client_id != client.client_id:
            return False
        await self.refresh_tokens.remove_refresh_token(token)
        await self.refresh_tokens.revoke_family(found[0])
        return True
