"""A software WebAuthn authenticator for tests (WebAuthn L2 §6): makes registration responses with ``none``
attestation and signed assertions with a P-256 key, so the server's checks (origin, RP id, challenge, user
verification, counter) can be exercised over HTTP without a browser."""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from identityserver._utils.b64 import b64url_decode, b64url_encode

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


@dataclass
class SoftAuthenticator:
    rp_id: str
    origin: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    user_handle: bytes = b""
    counter: int = 0
    user_verified: bool = True

    def _flags(self, extra: int = 0) -> int:
        return UP | (UV if self.user_verified else 0) | extra

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        return json.dumps(data).encode()

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def create(self, options_json: str, origin: str | None = None, rp_id: str | None = None) -> str:
        options: dict[str, Any] = json.loads(options_json)
        self.user_handle = b64url_decode(options["user"]["id"])
        rp_hash = hashlib.sha256((rp_id or self.rp_id).encode()).digest()
        attested = bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + self._cose_key()
        auth_data = rp_hash + bytes([self._flags(AT)]) + struct.pack(">I", self.counter) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return json.dumps(
            {
                "id": b64url_encode(self.credential_id),
                "rawId": b64url_encode(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url_encode(client_data),
                    "attestationObject": b64url_encode(attestation),
                    "transports": ["internal"],
                },
                "clientExtensionResults": {},
            }
        )

    def get(
        self, options_json: str, origin: str | None = None, rp_id: str | None = None, counter: int | None = None
    ) -> str:
        options: dict[str, Any] = json.loads(options_json)
        self.counter = self.counter + 1 if counter is None else counter
        rp_hash = hashlib.sha256((rp_id or self.rp_id).encode()).digest()
        auth_data = rp_hash + bytes([self._flags()]) + struct.pack(">I", self.counter)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return json.dumps(
            {
                "id": b64url_encode(self.credential_id),
                "rawId": b64url_encode(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url_encode(client_data),
                    "authenticatorData": b64url_encode(auth_data),
                    "signature": b64url_encode(signature),
                    "userHandle": b64url_encode(self.user_handle),
                },
                "clientExtensionResults": {},
            }
        )
