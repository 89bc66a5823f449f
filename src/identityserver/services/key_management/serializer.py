"""Turning key containers into stored keys and back, with the key material encrypted at rest."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from identityserver.crypto.jwk import PrivateKey
from identityserver.crypto.protection import DataProtector
from identityserver.models.keys import KeyContainer, SerializedKey

_CURVES: dict[str, type[ec.EllipticCurve]] = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}


def generate_key(algorithm: str, created: datetime, rsa_key_size: int = 2048) -> KeyContainer:
    """Create a new key for ``algorithm`` with a random kid (16 bytes, hex)."""
    private_key: PrivateKey
    if algorithm in _CURVES:
        private_key = ec.generate_private_key(_CURVES[algorithm]())
    elif algorithm[:2] in ("RS", "PS"):
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_key_size)
    else:
        raise ValueError(f"unsupported signing algorithm {algorithm}")
    return KeyContainer(secrets.token_hex(16).upper(), algorithm, created, private_key)


async def serialize_key(key: KeyContainer, protector: DataProtector | None) -> SerializedKey:
    pem = key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    container = json.dumps(
        {
            "Id": key.id,
            "Algorithm": key.algorithm,
            "Created": key.created.isoformat(),
            "Pem": pem.decode("ascii"),
        }
    ).encode("utf-8")
    if protector is not None:
        data, protected = await protector.protect(container), True
    else:
        data, protected = base64.b64encode(container).decode("ascii"), False
    return SerializedKey(key.id, 1, key.created, key.algorithm, False, data, protected)


async def deserialize_key(stored: SerializedKey, protector: DataProtector | None) -> KeyContainer:
    """Raise ``ValueError`` (or ``DataProtectionError``) when the key cannot be read."""
    if stored.data_protected:
        if protector is None:
            raise ValueError("key is protected but data protection of keys is disabled")
        raw = await protector.unprotect(stored.data)
    else:
        raw = base64.b64decode(stored.data)
    container = json.loads(raw)
    # Checking an RSA key holds the GIL for 30 ms (2048 bits) to 200 ms (4096), so a thread would not spare the
    # event loop. Protected data is authenticated by the key ring: it holds a key that this server generated.
    private_key = serialization.load_pem_private_key(
        container["Pem"].encode("ascii"), password=None, unsafe_skip_rsa_key_validation=stored.data_protected
    )
    if not isinstance(private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("unsupported key type")
    # the row's id/algorithm/created sit outside the protected data: trust them only when they agree with it
    if container.get("Id") != stored.id:
        raise ValueError("key id does not match its container")
    if container.get("Algorithm") != stored.algorithm:
        raise ValueError("key algorithm does not match its container")
    if not _key_fits_algorithm(private_key, stored.algorithm):
        raise ValueError(f"key material cannot sign with {stored.algorithm}")
    created = datetime.fromisoformat(str(container["Created"]))
    return KeyContainer(stored.id, stored.algorithm, created, private_key)


def _key_fits_algorithm(key: PrivateKey, algorithm: str) -> bool:
    if algorithm in _CURVES:
        return isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, _CURVES[algorithm])
    return algorithm[:2] in ("RS", "PS") and isinstance(key, rsa.RSAPrivateKey)
