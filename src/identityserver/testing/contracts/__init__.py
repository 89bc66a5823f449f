"""The contract classes, one per store protocol. Subclass one as ``Test...`` in a test module that has a
``store_factory`` fixture (see ``identityserver.testing``); each test runs on a fresh factory."""

from identityserver.testing.contracts.backchannel_logout_queue import BackChannelLogoutQueueContract
from identityserver.testing.contracts.client_registration import ClientRegistrationStoreContract
from identityserver.testing.contracts.clients import ClientStoreContract
from identityserver.testing.contracts.data_protection_keys import DataProtectionKeyStoreContract
from identityserver.testing.contracts.device_flow import DeviceFlowStoreContract
from identityserver.testing.contracts.persisted_grants import PersistedGrantStoreContract
from identityserver.testing.contracts.replay_cache import ReplayCacheContract
from identityserver.testing.contracts.resources import ResourceStoreContract
from identityserver.testing.contracts.server_side_sessions import ServerSideSessionStoreContract
from identityserver.testing.contracts.sign_in_methods import PasskeyStoreContract, TotpStoreContract
from identityserver.testing.contracts.signing_keys import SigningKeyStoreContract
from identityserver.testing.contracts.token_cleanup import TokenCleanupContract
from identityserver.testing.contracts.users import UserStoreContract

__all__ = [
    "BackChannelLogoutQueueContract",
    "ClientRegistrationStoreContract",
    "ClientStoreContract",
    "DataProtectionKeyStoreContract",
    "DeviceFlowStoreContract",
    "PasskeyStoreContract",
    "PersistedGrantStoreContract",
    "ReplayCacheContract",
    "ResourceStoreContract",
    "ServerSideSessionStoreContract",
    "SigningKeyStoreContract",
    "TokenCleanupContract",
    "TotpStoreContract",
    "UserStoreContract",
]
