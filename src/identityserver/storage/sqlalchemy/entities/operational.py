"""IdentityServer's ``PersistedGrantDbContext`` tables (Duende ``PersistedGrant``, ``DeviceFlowCodes``, ``Key``,
``ServerSideSession`` entities; unchanged from 6.2 to 6.3) and this server's own tables: a replay cache, the
data-protection key ring and the users imported from a configuration file. As in ``configuration.py``, the
migrations (not these tables) give the ``Id`` keys SQLite's ``AUTOINCREMENT``."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Identity, Integer, PrimaryKeyConstraint, Table

from identityserver.storage.sqlalchemy.entities.base import ix, metadata
from identityserver.storage.sqlalchemy.entities.types import Bool, UtcDateTime, long_id, nvarchar

persisted_grants = Table(
    "PersistedGrants",
    metadata,
    Column("Id", long_id(), Identity(), primary_key=True),
    Column("Key", nvarchar(200), nullable=True),
    Column("Type", nvarchar(50), nullable=False),
    Column("SubjectId", nvarchar(200), nullable=True),
    Column("SessionId", nvarchar(100), nullable=True),
    Column("ClientId", nvarchar(200), nullable=False),
    Column("Description", nvarchar(200), nullable=True),
    Column("CreationTime", UtcDateTime, nullable=False),
    Column("Expiration", UtcDateTime, nullable=True),
    Column("ConsumedTime", UtcDateTime, nullable=True),
    Column("Data", nvarchar(), nullable=False),
    ix("PersistedGrants", "ConsumedTime"),
    ix("PersistedGrants", "Expiration"),
    ix("PersistedGrants", "Key", unique=True),
    ix("PersistedGrants", "SubjectId", "ClientId", "Type"),
    ix("PersistedGrants", "SubjectId", "SessionId", "Type"),
)

device_codes = Table(
    "DeviceCodes",
    metadata,
    Column("UserCode", nvarchar(200), primary_key=True),
    Column("DeviceCode", nvarchar(200), nullable=False),
    Column("SubjectId", nvarchar(200), nullable=True),
    Column("SessionId", nvarchar(100), nullable=True),
    Column("ClientId", nvarchar(200), nullable=False),
    Column("Description", nvarchar(200), nullable=True),
    Column("CreationTime", UtcDateTime, nullable=False),
    Column("Expiration", UtcDateTime, nullable=False),
    Column("Data", nvarchar(), nullable=False),
    ix("DeviceCodes", "DeviceCode", unique=True),
    ix("DeviceCodes", "Expiration"),
)

keys = Table(
    "Keys",
    metadata,
    Column("Id", nvarchar(450), primary_key=True),
    Column("Version", Integer, nullable=False),
    Column("Created", UtcDateTime, nullable=False),
    Column("Use", nvarchar(450), nullable=True),
    Column("Algorithm", nvarchar(100), nullable=False),
    Column("IsX509Certificate", Bool, nullable=False),
    Column("DataProtected", Bool, nullable=False),
    Column("Data", nvarchar(), nullable=False),
    ix("Keys", "Use"),
)

server_side_sessions = Table(
    "ServerSideSessions",
    metadata,
    Column("Id", Integer, Identity(), primary_key=True),
    Column("Key", nvarchar(100), nullable=False),
    Column("Scheme", nvarchar(100), nullable=False),
    Column("SubjectId", nvarchar(100), nullable=False),
    Column("SessionId", nvarchar(100), nullable=True),
    Column("DisplayName", nvarchar(100), nullable=True),
    Column("Created", UtcDateTime, nullable=False),
    Column("Renewed", UtcDateTime, nullable=False),
    Column("Expires", UtcDateTime, nullable=True),
    Column("Data", nvarchar(), nullable=False),
    ix("ServerSideSessions", "DisplayName"),
    ix("ServerSideSessions", "Expires"),
    ix("ServerSideSessions", "Key", unique=True),
    ix("ServerSideSessions", "SessionId"),
    ix("ServerSideSessions", "SubjectId"),
)

# -- this server's own tables (migration revision 3) --------------------------------------------------------

replay_cache = Table(
    "IdentityServerReplayCache",
    metadata,
    Column("Key", nvarchar(100), primary_key=True),
    Column("Expiration", UtcDateTime, nullable=False),
    ix("IdentityServerReplayCache", "Expiration"),
)

data_protection_keys = Table(
    "IdentityServerDataProtectionKeys",
    metadata,
    Column("Id", nvarchar(100), primary_key=True),
    Column("Created", UtcDateTime, nullable=False),
    Column("Activation", UtcDateTime, nullable=False),
    Column("Expiration", UtcDateTime, nullable=False),
    Column("Material", nvarchar(200), nullable=False),
)

users = Table(
    "IdentityServerUsers",
    metadata,
    Column("SubjectId", nvarchar(200), primary_key=True),
    Column("Username", nvarchar(200), nullable=False),
    Column("NormalizedUsername", nvarchar(200), nullable=False),
    Column("PasswordHash", nvarchar(), nullable=False),
    Column("Claims", nvarchar(), nullable=False),
    Column("IsActive", Bool, nullable=False),
    Column("ProviderName", nvarchar(200), nullable=True),
    Column("ProviderSubjectId", nvarchar(200), nullable=True),
    ix("IdentityServerUsers", "NormalizedUsername", unique=True),
)

# -- revision 4 ------------------------------------------------------------------------------------------------

backchannel_logouts = Table(
    "IdentityServerBackChannelLogouts",
    metadata,
    Column("Id", nvarchar(100), primary_key=True),
    Column("ClientId", nvarchar(200), nullable=False),
    Column("SubjectId", nvarchar(200), nullable=False),
    Column("SessionId", nvarchar(100), nullable=True),
    Column("Issuer", nvarchar(2000), nullable=False),
    Column("Created", UtcDateTime, nullable=False),
    Column("NextAttempt", UtcDateTime, nullable=False),
    Column("Attempts", Integer, nullable=False),
    Column("LastError", nvarchar(200), nullable=True),
    ix("IdentityServerBackChannelLogouts", "NextAttempt"),
)

# -- revision 5: sign-in methods (passkeys, TOTP, upstream account links) ----------------------------------------

user_passkeys = Table(
    "IdentityServerUserPasskeys",
    metadata,
    Column("CredentialId", nvarchar(1400), primary_key=True),
    Column("SubjectId", nvarchar(200), nullable=False),
    Column("UserHandle", nvarchar(200), nullable=False),
    Column("PublicKey", nvarchar(), nullable=False),
    Column("SignCount", BigInteger, nullable=False),
    Column("Transports", nvarchar(200), nullable=True),
    Column("BackupEligible", Bool, nullable=False),
    Column("BackedUp", Bool, nullable=False),
    Column("Aaguid", nvarchar(100), nullable=True),
    Column("Name", nvarchar(200), nullable=False),
    Column("Created", UtcDateTime, nullable=False),
    Column("LastUsed", UtcDateTime, nullable=True),
    ix("IdentityServerUserPasskeys", "SubjectId"),
)

user_totp = Table(
    "IdentityServerUserTotp",
    metadata,
    Column("SubjectId", nvarchar(200), primary_key=True),
    Column("Secret", nvarchar(), nullable=False),
    Column("Enabled", Bool, nullable=False),
    Column("LastUsedStep", BigInteger, nullable=True),
    Column("RecoveryCodes", nvarchar(), nullable=False),
    Column("Created", UtcDateTime, nullable=False),
)

external_logins = Table(
    "IdentityServerExternalLogins",
    metadata,
    Column("Scheme", nvarchar(200), nullable=False),
    Column("ProviderSubjectId", nvarchar(400), nullable=False),
    Column("SubjectId", nvarchar(200), nullable=False),
    Column("DisplayName", nvarchar(200), nullable=True),
    Column("Created", UtcDateTime, nullable=False),
    Column("LastUsed", UtcDateTime, nullable=True),
    PrimaryKeyConstraint("Scheme", "ProviderSubjectId"),
    ix("IdentityServerExternalLogins", "SubjectId"),
)
