"""OpenTelemetry instruments of the server (docs/observability.md names each one).

Only ``opentelemetry-api`` is imported: without an SDK every instrument is a no-op. The per-request
instruments are used only when ``[options.telemetry] enabled`` is set, so that a server without telemetry pays
nothing for them on its hot paths; the rare ones (key rotations, cleanup runs, sign-ins) are always recorded."""

from __future__ import annotations

from opentelemetry import metrics, trace

from identityserver.telemetry.proxy import TracingProxy, traced

__all__ = [
    "ACTIVE_SESSIONS",
    "CLEANUP_REMOVED",
    "CLEANUP_RUNS",
    "KEY_ROTATIONS",
    "REQUEST_DURATION",
    "SCOPE",
    "TOKENS_ISSUED",
    "TOKEN_ERRORS",
    "TracingProxy",
    "meter",
    "traced",
    "tracer",
]

#: The instrumentation scope of every span and instrument.
SCOPE = "identityserver"

tracer = trace.get_tracer(SCOPE)
meter = metrics.get_meter(SCOPE)

TOKENS_ISSUED = meter.create_counter(
    "identityserver.tokens.issued",
    unit="{response}",
    description="Successful token endpoint responses, by grant_type and client_id",
)
TOKEN_ERRORS = meter.create_counter(
    "identityserver.tokens.errors",
    unit="{response}",
    description="Token endpoint error responses, by error code",
)
REQUEST_DURATION = meter.create_histogram(
    "identityserver.request.duration",
    unit="s",
    description="Duration of protocol requests, by endpoint, method and status code",
    explicit_bucket_boundaries_advisory=[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
)
ACTIVE_SESSIONS = meter.create_up_down_counter(
    "identityserver.sessions.active",
    unit="{session}",
    description="Sign-ins minus sign-outs in this process",
)
KEY_ROTATIONS = meter.create_counter(
    "identityserver.keys.rotations",
    unit="{key}",
    description="Signing keys created by the key manager, by algorithm",
)
CLEANUP_RUNS = meter.create_counter(
    "identityserver.token_cleanup.runs",
    unit="{run}",
    description="Background token cleanup runs, by outcome",
)
CLEANUP_REMOVED = meter.create_counter(
    "identityserver.token_cleanup.removed",
    unit="{row}",
    description="Rows removed by the token cleanup, by kind",
)
