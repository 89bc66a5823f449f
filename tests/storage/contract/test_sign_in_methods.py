"""Passkey and TOTP store behaviour (``identityserver.testing.contracts.sign_in_methods``) in memory and on SQL."""

from __future__ import annotations

from identityserver.testing.contracts import PasskeyStoreContract, TotpStoreContract


class TestPasskeyStores(PasskeyStoreContract):
    pass


class TestTotpStores(TotpStoreContract):
    pass
