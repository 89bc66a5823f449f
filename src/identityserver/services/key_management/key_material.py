"""Signing credentials and validation keys for token creation and JWKS (Duende ``DefaultKeyMaterialService``)."""

from __future__ import annotations

import logging
from typing import Any, Protocol, runtime_checkable

from identityserver.clock import monotonic
from identityserver.crypto.jwk import public_jwk
from identityserver.crypto.jwt import DecodedJws, verify_signature
from identityserver.models.keys import KeyContainer
from identityserver.services.protocols import KeyManager

logger = logging.getLogger("identityserver.keys")


class NoSigningKeyError(RuntimeError):
    """No key can sign with any of the allowed algorithms."""


@runtime_checkable
class _ReloadableKeyManager(Protocol):
    async def reload_keys(self) -> list[KeyContainer]: ...


UNKNOWN_KID_RELOAD_INTERVAL = 5.0
"""Seconds between two reloads of the keys for a JWT whose ``kid`` this process does not know (security.md M6)."""


class DefaultKeyMaterialService:
    """The default ``KeyMaterialService`` (Duende ``DefaultKeyMaterialService``): signing and validation keys from the
    key manager."""

    def __init__(self, key_manager: KeyManager) -> None:
        self.key_manager = key_manager
        self._next_unknown_kid_reload = 0.0
        self._public_jwks: dict[tuple[str, str], dict[str, Any]] = {}
        """Public JWK per (kid, alg): derived once per key, not per JWKS request (issue 15)."""

    async def get_signing_credentials(self, allowed_algorithms: list[str] | None = None) -> KeyContainer:
        """The current key for the first configured algorithm that is allowed (all are when none given)."""
        keys = await self.key_manager.get_current_keys()
        if not keys:
            raise NoSigningKeyError("no signing key is available")
        if not allowed_algorithms:
            return keys[0]
        for key in keys:
            if key.algorithm in allowed_algorithms:
                return key
        raise NoSigningKeyError(f"no signing key for any of {allowed_algorithms}")

    async def get_all_signing_credentials(self) -> list[KeyContainer]:
        """The current signing key of each configured algorithm."""
        return await self.key_manager.get_current_keys()

    async def get_validation_keys(self) -> list[KeyContainer]:
        """Every unretired key (what JWKS publishes)."""
        return await self.key_manager.get_all_keys()

    async def verify_issued_jws(self, jws: DecodedJws) -> bool:
        """Whether one of our validation keys (matched by ``kid`` and ``alg``) signed ``jws``.

        A ``kid`` this process does not know may be a key another node made after this one last read the store
        (a key retired by hand leaves no time to announce its successor): the keys are then read again, at most
        once per :data:`UNKNOWN_KID_RELOAD_INTERVAL`, so that made-up key ids cannot keep the store busy."""
        kid = jws.header.get("kid")
        key = self._find(await self.get_validation_keys(), kid, jws.alg)
        if key is None and isinstance(kid, str) and isinstance(self.key_manager, _ReloadableKeyManager):
            now = monotonic()
            if now >= self._next_unknown_kid_reload:
                self._next_unknown_kid_reload = now + UNKNOWN_KID_RELOAD_INTERVAL
                try:  # the keys read before stay cached when this read fails
                    key = self._find(await self.key_manager.reload_keys(), kid, jws.alg)
                except Exception as error:  # an unknown kid is refused, not a server error
                    logger.warning("reading the signing keys again for kid %.64r failed: %s", kid, type(error).__name__)
        if key is None:
            return False
        return verify_signature(jws.alg, key.private_key.public_key(), jws.signing_input, jws.signature)

    @staticmethod
    def _find(keys: list[KeyContainer], kid: object, alg: str) -> KeyContainer | None:
        return next((key for key in keys if key.id == kid and key.algorithm == alg), None)

    async def get_json_web_keys(self) -> list[dict[str, Any]]:
        """Public JWKs of every non-retired key, including announced keys that do not sign yet."""
        result = []
        keys = await self.get_validation_keys()
        for key in keys:
            jwk = self._public_jwks.get((key.id, key.algorithm))
            if jwk is None:
                jwk = public_jwk(key.private_key)
                jwk.update({"kid": key.id, "use": "sig", "alg": key.algorithm})
                if len(self._public_jwks) > 4 * len(keys) + 16:  # retired keys leave
                    self._public_jwks.clear()
                self._public_jwks[(key.id, key.algorithm)] = jwk
            result.append(dict(jwk))
        return result
