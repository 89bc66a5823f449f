"""Whether consent is needed, and remembered consent (Duende ``DefaultConsentService``)."""

from __future__ import annotations

import json
from datetime import timedelta

from identityserver.clock import Clock
from identityserver.constants import PersistedGrantTypes
from identityserver.crypto.hashing import hashed_grant_key
from identityserver.models.client import Client
from identityserver.models.grants import Consent, PersistedGrant, PersistedGrantFilter
from identityserver.stores.protocols import PersistedGrantStore


def _consent_key(subject_id: str, client_id: str) -> str:
    return hashed_grant_key(f"{client_id}|{subject_id}", PersistedGrantTypes.USER_CONSENT)


class DefaultConsentService:
    """The default ``ConsentService``: consent is remembered as a persisted grant per user and client; override to
    change when consent is asked."""

    def __init__(self, store: PersistedGrantStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def require_consent(self, subject_id: str, client: Client, scopes: list[str]) -> bool:
        """Whether the user must be asked: the client requires consent and the scopes are not all remembered (always,
        when the client does not allow remembering)."""
        if not client.require_consent or not scopes:
            return False
        if not client.allow_remember_consent:
            return True
        consent = await self.get_consent(subject_id, client.client_id)
        return consent is None or not set(scopes).issubset(consent.scopes)

    async def get_consent(self, subject_id: str, client_id: str) -> Consent | None:
        """The remembered consent of the user for the client, if any."""
        grant = await self.store.get(_consent_key(subject_id, client_id))
        if grant is None or grant.type != PersistedGrantTypes.USER_CONSENT:
            return None
        return await self._read_consent(grant)

    async def _read_consent(self, grant: PersistedGrant) -> Consent | None:
        """The consent a stored grant holds; an expired one is removed."""
        if grant.expiration is not None and grant.expiration < self.clock.utc_now():
            await self.store.remove(grant.key)
            return None
        try:
            data = json.loads(grant.data)
            return Consent(
                data["SubjectId"], data["ClientId"], list(data["Scopes"]), grant.creation_time, grant.expiration
            )
        except (ValueError, KeyError, TypeError):
            return None

    async def update_consent(self, subject_id: str, client: Client, scopes: list[str]) -> None:
        """Remember the consented scopes (or forget them when empty), if the client allows remembering."""
        if not client.allow_remember_consent:
            return
        key = _consent_key(subject_id, client.client_id)
        if not scopes:
            await self.store.remove(key)
            return
        now = self.clock.utc_now()
        expiration = now + timedelta(seconds=client.consent_lifetime) if client.consent_lifetime else None
        data = json.dumps(
            {
                "SubjectId": subject_id,
                "ClientId": client.client_id,
                "Scopes": sorted(scopes),
                "CreationTime": now.isoformat(),
                "Expiration": expiration.isoformat() if expiration else None,
            }
        )
        await self.store.store(
            PersistedGrant(
                key,
                PersistedGrantTypes.USER_CONSENT,
                client.client_id,
                now,
                data,
                subject_id=subject_id,
                expiration=expiration,
            )
        )

    async def get_all_consents(self, subject_id: str) -> list[Consent]:
        """Every remembered consent of the user (the grants page)."""
        grants = await self.store.get_all(
            PersistedGrantFilter(subject_id=subject_id, type=PersistedGrantTypes.USER_CONSENT)
        )
        result = []
        for grant in grants:
            consent = await self._read_consent(grant)
            if consent is not None:
                result.append(consent)
        return result

    async def revoke_consent(self, subject_id: str, client_id: str) -> None:
        """Forget the consent and end the grants it allowed (codes, refresh and reference tokens), as
        IdentityServer's ``RevokeUserConsentAsync`` does."""
        await self.store.remove(_consent_key(subject_id, client_id))
        await self.store.remove_all(
            PersistedGrantFilter(
                subject_id=subject_id,
                client_id=client_id,
                types=[
                    PersistedGrantTypes.AUTHORIZATION_CODE,
                    PersistedGrantTypes.REFRESH_TOKEN,
                    PersistedGrantTypes.REFERENCE_TOKEN,
                ],
            )
        )
