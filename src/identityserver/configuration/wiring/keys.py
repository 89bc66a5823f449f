"""Default key ring, signing keys and token signing."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.configuration.wiring.composition import Composition, default
from identityserver.crypto.key_encryption import load_key_encryption_key
from identityserver.services.data_protection import KeyRingDataProtectionProvider
from identityserver.services.key_management.key_manager import DefaultKeyManager
from identityserver.services.key_management.key_material import DefaultKeyMaterialService
from identityserver.services.protocols import (
    DataProtectionKeyRing,
    KeyManager,
    KeyMaterialService,
    TokenCreationService,
)
from identityserver.services.token_creation import DefaultTokenCreationService
from identityserver.stores.protocols import DataProtectionKeyStore, SigningKeyStore

DATA_PROTECTION_KEY_PURPOSE = "DataProtectionKeyProtector"


@default(DataProtectionKeyRing)
def data_protection(c: Composition) -> DataProtectionKeyRing:
    settings = c.options.data_protection
    return c.cls(DataProtectionKeyRing, KeyRingDataProtectionProvider)(
        c.get(DataProtectionKeyStore),
        c.get(Clock),
        settings.application_name,
        settings.key_lifetime,
        key_encryption_key=load_key_encryption_key(settings.key_encryption_key_env, settings.key_encryption_key_file),
    )


@default(KeyManager)
def key_manager(c: Composition) -> KeyManager:
    store = c.get(SigningKeyStore)
    return c.cls(KeyManager, DefaultKeyManager)(
        c.options.key_management,
        store,
        c.get(DataProtectionKeyRing).create_protector(DATA_PROTECTION_KEY_PURPOSE),
        c.get(Clock),
        store.lock,
    )


@default(KeyMaterialService)
def key_material(c: Composition) -> KeyMaterialService:
    return c.cls(KeyMaterialService, DefaultKeyMaterialService)(c.get(KeyManager))


@default(TokenCreationService)
def token_creation(c: Composition) -> TokenCreationService:
    return c.cls(TokenCreationService, DefaultTokenCreationService)(c.get(KeyMaterialService), c.options)
