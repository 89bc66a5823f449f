"""Options of the server's operation rather than its protocol: signing-key management, data protection, store
caching, the clock and telemetry (``[options.key_management]``, ``[options.data_protection]``,
``[options.caching]``, ``[options.clock]``, ``[options.telemetry]``). Re-exported by ``identityserver.options``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CachingOptions:
    """How long configuration read from the database is cached (per process)."""

    client_store_expiration: int = 900
    """Clients and their CORS origins (15 minutes)."""
    resource_store_expiration: int = 900
    """Identity resources, API scopes and API resources (15 minutes)."""
    identity_provider_cache_duration: int = 3600
    """Upstream identity providers (60 minutes; docs/federation.md)."""


@dataclass(frozen=True, slots=True)
class KeyManagementOptions:
    """Automatic signing-key management (Duende ``KeyManagementOptions``)."""

    rsa_key_size: int = 2048
    """Size of new RSA keys (bits)."""
    signing_algorithms: tuple[str, ...] = ("RS256",)
    """Algorithms with a managed key each (RS/PS/ES 256-512); the first is the default for tokens."""
    initialization_duration: int = 300
    """While the newest key is younger than this, keys are cached only ``initialization_key_cache_duration``."""
    initialization_key_cache_duration: int = 60
    """Key cache duration during initialization, so that processes started together converge quickly."""
    key_cache_duration: int = 86400
    """How long keys are cached in memory (capped at half the propagation time)."""
    propagation_time: int = 14 * 86400
    """How long a new key is announced in JWKS before it signs anything."""
    rotation_interval: int = 90 * 86400
    """Age at which a key stops signing."""
    retention_duration: int = 14 * 86400
    """How long a rotated key stays in JWKS for validation."""
    delete_retired_keys: bool = True
    """Delete keys older than rotation plus retention from the store."""
    data_protect_keys: bool = True
    """Encrypt key material at rest with the data-protection key ring."""
    key_path: str | None = None
    """Folder of the file-system key store (used when there is no database); default ``<state>/keys``."""


@dataclass(frozen=True, slots=True)
class DataProtectionOptions:
    """The key ring that encrypts keys, grants, sessions and UI messages (ASP.NET Data Protection's role)."""

    application_name: str = "identityserver"
    """Isolates protected payloads: data protected under one name cannot be read under another. It is explicit
    so that moving the install folder never invalidates keys (6.3 upgrade guide, Step 3)."""
    key_ring_path: str | None = None
    """A folder for the key ring instead of the database; default ``<state>/data-protection`` when there is no
    database."""
    key_lifetime: int = 90 * 86400
    """Lifetime of each key of the ring (at least 7 days); old keys stay readable."""
    key_encryption_key_env: str | None = None
    """Name of an environment variable holding a key-encryption key (256 random bits, base64url): the ring's
    master keys are then stored wrapped under it (AES-256-GCM). Keys stored in clear before stay readable;
    ``identityserver keyring rewrap`` wraps them. Without it, a wrapped ring stops start-up."""
    key_encryption_key_file: str | None = None
    """A file holding the key-encryption key instead (e.g. ``/run/secrets/kek``; relative to the configuration
    file). Set this or ``key_encryption_key_env``, not both."""


@dataclass(frozen=True, slots=True)
class ClockOptions:
    """How the nodes of a deployment agree on the time (docs/scaling.md, "Clocks"). Not in Duende, whose nodes
    each trust their host's clock."""

    follow_database: bool = True
    """With PostgreSQL, measure this process's clock against the database server's every
    ``synchronization_interval`` seconds, and use the database's time while the two differ by more than
    ``tolerance`` (logged as a warning). Between measurements time runs on the monotonic clock, so a step of the
    host's clock is not followed. Without it, each node uses its host's clock, and a node whose clock is minutes
    off rejects what the others issue (codes, DPoP nonces) and slows down their devices' polls."""
    tolerance: float = 0.5
    """Seconds the host's clock may differ from the database server's before the database's is used (at most 0.5,
    so that the nodes stay within the second and a half that a DPoP nonce of another node is allowed)."""
    synchronization_interval: float = 10.0
    """Seconds between measurements (three ``SELECT``s each, per process; the quickest answer is used)."""


@dataclass(frozen=True, slots=True)
class TelemetryOptions:
    """Metrics, traces and logs (docs/observability.md). Not in Duende (its hosts configure OpenTelemetry in code)."""

    enabled: bool = False
    """Emit OpenTelemetry spans and metrics (``identityserver.*`` instruments). ``serve`` then configures the
    OpenTelemetry SDK, which needs the ``identityserver[otel]`` extra; embedders install their own SDK. The
    standard ``OTEL_*`` variables (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_RESOURCE_ATTRIBUTES``, sampling) apply."""
    service_name: str = ""
    """``service.name`` of the exported data; empty: ``OTEL_SERVICE_NAME``, else ``identityserver``."""
    otlp_endpoint: str = ""
    """Base URL of an OTLP/HTTP collector (e.g. ``http://collector:4318``); empty: ``OTEL_EXPORTER_OTLP_ENDPOINT``
    or the per-signal variables, and when none is set nothing is exported over OTLP."""
    prometheus: bool = False
    """Serve the metrics for Prometheus to scrape at ``prometheus_path`` on the server's own port."""
    prometheus_path: str = "/metrics"
    """Path of the Prometheus scrape endpoint (not routed unless ``prometheus`` is set)."""
    log_format: str = "text"
    """``text`` or ``json`` (one JSON object a line with the trace id); ``serve --log-format`` overrides it."""
