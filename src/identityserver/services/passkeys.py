"""Passkeys: WebAuthn registration and authentication ceremonies (WebAuthn L2 §7.1, §7.2), verified by the
maintained ``webauthn`` library (py_webauthn). User verification is required and credentials are discoverable
(resident keys), so a user signs in without typing a username. The RP id is the issuer's host and the only
origin accepted is the issuer's origin (§13.4.9). Each challenge is sealed into the ceremony state and accepted
once (a replay cache entry), so a captured response cannot be replayed."""

from __future__ import annotations

import asyncio
import importlib
import json
import secrets
import sys
from typing import Any

from identityserver._utils.b64 import b64url_decode, b64url_encode
from identityserver.clock import Clock
from identityserver.crypto.protection import DataProtectionError, DataProtector
from identityserver.models.sign_in_methods import PasskeyCredential
from identityserver.services.sign_in_protocols import PasskeyCeremony, PasskeyError
from identityserver.stores.protocols import PasskeyStore, ReplayCache

CEREMONY_LIFETIME = 300
"""Seconds a ceremony may take (WebAuthn §5.4 ``timeout`` is advisory; the state expires with it)."""
MAX_RESPONSE = 64 * 1024
_REGISTER, _AUTHENTICATE = "register", "authenticate"
# Anything the library raises on attacker-supplied bytes is a refusal, never a 500: its own exceptions
# (``WebAuthnException`` derives from ``Exception`` only, so it is added when the library is loaded), and what
# CBOR, JSON or key decoding lets through.
_DECODING_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    OverflowError,
    LookupError,
)


async def _load_webauthn() -> None:
    """py_webauthn (with pyOpenSSL, pyasn1 and cbor2: ~0.3 s and several MiB) is loaded at a worker's first
    ceremony, in a thread so that the event loop keeps serving meanwhile; workers that never see a passkey never
    load it (issue 15's memory budget)."""
    if "webauthn.helpers.structs" not in sys.modules:
        await asyncio.to_thread(importlib.import_module, "webauthn.helpers.structs")
        await asyncio.to_thread(importlib.import_module, "webauthn")


def _bad_input() -> tuple[type[Exception], ...]:
    from webauthn.helpers.exceptions import WebAuthnException

    return (WebAuthnException, *_DECODING_ERRORS)


class DefaultPasskeyService:
    def __init__(self, store: PasskeyStore, protector: DataProtector, replay: ReplayCache, clock: Clock) -> None:
        self.store = store
        self.protector = protector
        self.replay = replay
        self.clock = clock

    async def _seal(self, kind: str, challenge: bytes, rp_id: str, subject_id: str | None, handle: str | None) -> str:
        state = {
            "kind": kind,
            "challenge": b64url_encode(challenge),
            "rp_id": rp_id,
            "sub": subject_id,
            "handle": handle,
            "exp": int(self.clock.timestamp()) + CEREMONY_LIFETIME,
        }
        return await self.protector.protect(json.dumps(state).encode("utf-8"))

    async def _open(self, kind: str, sealed: str, rp_id: str) -> dict[str, Any]:
        """The state of an unexpired ceremony of ``kind`` for ``rp_id``, its challenge spent by this call."""
        try:
            state = json.loads(await self.protector.unprotect(sealed[:4000]))
        except (DataProtectionError, ValueError) as exc:
            raise PasskeyError("the passkey request is invalid or has expired; try again") from exc
        if not isinstance(state, dict) or state.get("kind") != kind or state.get("rp_id") != rp_id:
            raise PasskeyError("the passkey request is invalid; try again")
        if int(state.get("exp", 0)) < self.clock.timestamp():
            raise PasskeyError("the passkey request has expired; try again")
        if not await self.replay.add("webauthn.challenge", str(state["challenge"]), CEREMONY_LIFETIME + 60):
            raise PasskeyError("this passkey response was already used")
        return state

    async def registration_options(
        self, subject_id: str, username: str, display_name: str, rp_id: str, rp_name: str
    ) -> PasskeyCeremony:
        await _load_webauthn()
        from webauthn import generate_registration_options, options_to_json
        from webauthn.helpers.structs import (
            AuthenticatorSelectionCriteria,
            PublicKeyCredentialDescriptor,
            ResidentKeyRequirement,
            UserVerificationRequirement,
        )

        existing = await self.store.find_by_subject(subject_id)
        # one user handle per user (WebAuthn §14.6.1: random, not the username), so a new passkey on an
        # authenticator replaces that authenticator's older one for this site
        handle = existing[0].user_handle if existing else b64url_encode(secrets.token_bytes(32))
        challenge = secrets.token_bytes(32)
        options = generate_registration_options(
            rp_id=rp_id,
            rp_name=rp_name,
            user_name=username,
            user_id=b64url_decode(handle),
            user_display_name=display_name,
            challenge=challenge,
            timeout=CEREMONY_LIFETIME * 1000,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=b64url_decode(c.credential_id)) for c in existing],
        )
        state = await self._seal(_REGISTER, challenge, rp_id, subject_id, handle)
        return PasskeyCeremony(options_to_json(options), state)

    async def register(
        self, subject_id: str, state: str, response_json: str, origin: str, rp_id: str, name: str
    ) -> PasskeyCredential:
        await _load_webauthn()
        from webauthn import verify_registration_response
        from webauthn.helpers import parse_registration_credential_json
        from webauthn.helpers.structs import CredentialDeviceType

        opened = await self._open(_REGISTER, state, rp_id)
        if opened.get("sub") != subject_id:
            raise PasskeyError("the passkey request belongs to another session; try again")
        if len(response_json) > MAX_RESPONSE:
            raise PasskeyError("the passkey response is too large")
        try:
            parsed = parse_registration_credential_json(response_json)
            verified = verify_registration_response(
                credential=parsed,
                expected_challenge=b64url_decode(str(opened["challenge"])),
                expected_rp_id=rp_id,
                expected_origin=origin,
                require_user_verification=True,
            )
        except _bad_input() as exc:
            raise PasskeyError(f"the passkey could not be registered: {exc}") from exc
        credential = PasskeyCredential(
            credential_id=b64url_encode(verified.credential_id),
            subject_id=subject_id,
            user_handle=str(opened["handle"]),
            public_key=b64url_encode(verified.credential_public_key),
            sign_count=verified.sign_count,
            name=name.strip()[:100] or "Passkey",
            created=self.clock.utc_now(),
            transports=[t.value for t in parsed.response.transports or []],
            backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
            backed_up=verified.credential_backed_up,
            aaguid=verified.aaguid,
        )
        if not await self.store.add(credential):
            raise PasskeyError("this passkey is already registered")
        return credential

    async def authentication_options(self, rp_id: str) -> PasskeyCeremony:
        await _load_webauthn()
        from webauthn import generate_authentication_options, options_to_json
        from webauthn.helpers.structs import UserVerificationRequirement

        challenge = secrets.token_bytes(32)
        # no allowCredentials: the authenticator offers its discoverable credentials (WebAuthn §5.4.4)
        options = generate_authentication_options(
            rp_id=rp_id,
            challenge=challenge,
            timeout=CEREMONY_LIFETIME * 1000,
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        state = await self._seal(_AUTHENTICATE, challenge, rp_id, None, None)
        return PasskeyCeremony(options_to_json(options), state)

    async def authenticate(self, state: str, response_json: str, origin: str, rp_id: str) -> PasskeyCredential:
        await _load_webauthn()
        from webauthn import verify_authentication_response
        from webauthn.helpers import parse_authentication_credential_json

        opened = await self._open(_AUTHENTICATE, state, rp_id)
        if len(response_json) > MAX_RESPONSE:
            raise PasskeyError("the passkey response is too large")
        try:
            parsed = parse_authentication_credential_json(response_json)
        except _bad_input() as exc:
            raise PasskeyError(f"the passkey response is malformed: {exc}") from exc
        stored = await self.store.find(b64url_encode(parsed.raw_id))
        if stored is None:
            raise PasskeyError("this passkey is not registered here")
        handle = parsed.response.user_handle
        if handle is not None and b64url_encode(handle) != stored.user_handle:
            raise PasskeyError("this passkey belongs to another account")  # WebAuthn §7.2 step 6
        try:
            verified = verify_authentication_response(
                credential=parsed,
                expected_challenge=b64url_decode(str(opened["challenge"])),
                expected_rp_id=rp_id,
                expected_origin=origin,
                credential_public_key=b64url_decode(stored.public_key),
                credential_current_sign_count=stored.sign_count,
                require_user_verification=True,
            )
        except _bad_input() as exc:
            raise PasskeyError(f"the passkey could not be verified: {exc}") from exc
        if not await self.store.record_use(
            stored.credential_id, verified.new_sign_count, verified.credential_backed_up, self.clock.utc_now()
        ):
            # WebAuthn §6.1.1: the counter did not grow; a cloned authenticator, or a concurrent use
            raise PasskeyError("this passkey's signature counter went back; it may have been cloned")
        stored.sign_count, stored.backed_up = verified.new_sign_count, verified.credential_backed_up
        return stored

    async def credentials(self, subject_id: str) -> list[PasskeyCredential]:
        return await self.store.find_by_subject(subject_id)

    async def rename(self, subject_id: str, credential_id: str, name: str) -> bool:
        return await self.store.rename(subject_id, credential_id[:1400], name.strip()[:100] or "Passkey")

    async def remove(self, subject_id: str, credential_id: str) -> bool:
        return await self.store.remove(subject_id, credential_id[:1400])
