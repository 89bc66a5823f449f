"""Federation with upstream OpenID Connect providers (Duende dynamic providers and the host's
``ExternalLogin/Callback``): which providers a login may use, who the upstream account is here
(``ExternalUserResolver``), and what a federated session remembers for sign-out (the upstream ``id_token`` for
``id_token_hint``, its ``iss`` and ``sid`` for front-channel logout)."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from identityserver.clock import Clock
from identityserver.crypto.protection import DataProtectionError, DataProtector
from identityserver.models.claims import Claim
from identityserver.models.client import Client
from identityserver.models.grants import PersistedGrant
from identityserver.models.identity_providers import ExternalLogin, OidcProvider
from identityserver.models.users import TestUser
from identityserver.services.upstream_oidc import UpstreamOidcClient
from identityserver.stores.identity_providers import ExternalLoginStore, IdentityProviders
from identityserver.stores.protocols import PersistedGrantStore, UserStore

FEDERATED_SESSION = "federated_session"
"""Persisted-grant type of a federated session's record (keyed by the hash of the local ``sid``)."""
LOCAL = "local"
#: OIDC Core §5.1 standard claims an upstream may assert about the user; protocol claims (iss, aud, nonce, sid,
#: amr, acr, auth_time, at_hash, ...) are the upstream's own and never become claims of the local user.
PROFILE_CLAIMS = (
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
)


def map_claims(upstream: Mapping[str, Any]) -> list[Claim]:
    """The upstream's standard profile claims as local claims (same names: both sides speak OIDC Core §5.1)."""
    claims = []
    for name in PROFILE_CLAIMS:
        value = upstream.get(name)
        if value is None or (isinstance(value, str) and (not value or len(value) > 1000)):
            continue
        claims.append(Claim.of(name, value))
    return claims


class ExternalUserResolver(Protocol):
    """Maps an upstream account to a local user (the host's ``ExternalLogin/Callback`` "find or provision")."""

    async def resolve(self, scheme: str, claims: Mapping[str, Any], link_subject_id: str | None) -> TestUser | None:
        """The local user of ``(scheme, claims['sub'])``, or ``None`` to refuse the sign-in. ``link_subject_id``
        is the local user who started this round trip from their own session to link the upstream account."""
        ...


class DefaultExternalUserResolver:
    """Finds the user linked to the upstream account; else links it to ``link_subject_id`` (a user who signed in
    here first), else provisions a new user with the upstream's profile claims and links it. Never links by
    e-mail address or username: an upstream could assert any of them."""

    def __init__(self, users: UserStore | None, logins: ExternalLoginStore, clock: Clock) -> None:
        self.users = users
        self.logins = logins
        self.clock = clock

    async def resolve(self, scheme: str, claims: Mapping[str, Any], link_subject_id: str | None) -> TestUser | None:
        if self.users is None:
            return None
        upstream_sub = str(claims["sub"])
        now = self.clock.utc_now()
        login = await self.logins.find(scheme, upstream_sub)
        if login is not None:
            user = await self.users.find_by_subject_id(login.subject_id)
            if user is None or not user.is_active:
                return None
            await self.logins.touch(scheme, upstream_sub, now)
            return user
        display = next((c.value for c in map_claims(claims) if c.type == "name"), None)
        if link_subject_id is not None:
            user = await self.users.find_by_subject_id(link_subject_id)
            if user is None or not user.is_active:
                return None
        else:
            user = await self._provision(self.users, scheme, claims)
        link = ExternalLogin(scheme, upstream_sub, user.subject_id, now, display, now)
        if not await self.logins.add(link):  # linked meanwhile by a concurrent sign-in: use that link
            existing = await self.logins.find(scheme, upstream_sub)
            return await self.users.find_by_subject_id(existing.subject_id) if existing else None
        return user

    async def _provision(self, users: UserStore, scheme: str, claims: Mapping[str, Any]) -> TestUser:
        attempts = 0
        while True:
            username = await self._username(scheme, claims, attempts > 0)
            try:
                return await users.auto_provision_user(username, secrets.token_urlsafe(32), map_claims(claims))
            except ValueError:  # the name was taken meanwhile by a concurrent sign-in: try another
                attempts += 1
                if attempts == 3:
                    raise

    async def _username(self, scheme: str, claims: Mapping[str, Any], suffix: bool = False) -> str:
        """The upstream's ``preferred_username`` prefixed by the scheme (never a local user's name), made
        unique."""
        users = self.users
        wanted = claims.get("preferred_username") or claims["sub"]
        base = re.sub(r"[^\w.@+-]", "_", f"{scheme}.{wanted}")[:90]
        candidate = f"{base}.{secrets.token_hex(3)}" if suffix else base
        while users is not None and await users.find_by_username(candidate) is not None:
            candidate = f"{base}.{secrets.token_hex(3)}"
        return candidate


@dataclass(slots=True)
class FederatedSession:
    """What a federated sign-in remembers for sign-out (OIDC RP-Initiated Logout §2, Front-Channel Logout §2)."""

    scheme: str
    issuer: str
    id_token: str
    upstream_sid: str | None = None


class FederationService:
    """What the federation pages call into."""

    def __init__(
        self,
        providers: IdentityProviders,
        resolver: ExternalUserResolver,
        upstream: UpstreamOidcClient,
        grants: PersistedGrantStore,
        protector: DataProtector,
        clock: Clock,
        path_prefix: str = "/federation",
    ) -> None:
        self.providers = providers
        self.resolver = resolver
        self.upstream = upstream
        self.grants = grants
        self.protector = protector
        self.clock = clock
        self.path_prefix = path_prefix.rstrip("/")

    async def providers_for(self, client: Client | None) -> list[OidcProvider]:
        """The enabled providers a login for ``client`` may use (its ``identity_provider_restrictions``)."""
        found = await self.providers.enabled()
        if client is not None and client.identity_provider_restrictions:
            found = [p for p in found if p.scheme in client.identity_provider_restrictions]
        return found

    async def allowed(self, scheme: str, client: Client | None) -> OidcProvider | None:
        """The enabled provider ``scheme`` when ``client`` accepts it."""
        if (
            client is not None
            and client.identity_provider_restrictions
            and scheme not in client.identity_provider_restrictions
        ):
            return None
        return await self.providers.find(scheme)

    @staticmethod
    def _key(session_id: str) -> str:
        return hashlib.sha256(f"{FEDERATED_SESSION}:{session_id}".encode()).hexdigest().upper()

    async def remember(self, subject_id: str, session_id: str, expires: int, record: FederatedSession) -> None:
        """Keep the upstream ``id_token`` (sealed: it is a credential of the user at the upstream) for the
        session's lifetime."""
        sealed = await self.protector.protect(json.dumps(asdict(record)).encode())
        await self.grants.store(
            PersistedGrant(
                key=self._key(session_id),
                type=FEDERATED_SESSION,
                client_id=record.scheme,
                creation_time=self.clock.utc_now(),
                data=sealed,
                subject_id=subject_id,
                session_id=session_id,
                expiration=datetime.fromtimestamp(expires, UTC),
            )
        )

    async def session(self, session_id: str) -> FederatedSession | None:
        """What a federated sign-in of this session remembered, or ``None`` (unknown, expired or unreadable)."""
        grant = await self.grants.get(self._key(session_id))
        if grant is None or grant.type != FEDERATED_SESSION:
            return None
        if grant.expiration is not None and grant.expiration < self.clock.utc_now():
            return None
        try:
            data = json.loads(await self.protector.unprotect(grant.data))
            return FederatedSession(**data)
        except (DataProtectionError, ValueError, TypeError):
            return None

    async def forget(self, session_id: str) -> None:
        """Forget what the session remembered (after sign-out)."""
        await self.grants.remove(self._key(session_id))
