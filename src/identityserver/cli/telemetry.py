"""What ``serve`` sets up for observability (docs/observability.md): the OpenTelemetry SDK of each worker (from
``[options.telemetry]`` and the standard ``OTEL_*`` variables), the optional Prometheus scrape endpoint, and the
logging configuration (text or one JSON object a line) for the server's loggers and uvicorn's."""

from __future__ import annotations

import os
from typing import Any

from identityserver.hosting.middleware import ASGIApp, Receive, Scope, Send, relative_path
from identityserver.options import TelemetryOptions

DEFAULT_SERVICE_NAME = "identityserver"
TEXT_FORMAT = "%(levelname)s %(name)s %(message)s"
LOG_FORMATS = ("text", "json")
_OTLP_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
)


def log_config(level: str, log_format: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary (uvicorn applies it in every worker): one handler on the root
    logger, to which the ``identityserver.*`` and ``uvicorn.*`` loggers propagate."""
    formatter: dict[str, Any] = (
        {"()": "identityserver.telemetry.logs.JsonFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["default"], "level": upper},
        "loggers": {name: {"handlers": [], "level": upper, "propagate": True} for name in ("uvicorn", "uvicorn.error")},
    }


def _otlp_base(options: TelemetryOptions) -> str | None:
    """The collector base URL from the file, ``""`` when only the ``OTEL_*`` variables name one, ``None`` when
    nothing is exported over OTLP."""
    if options.otlp_endpoint:
        return options.otlp_endpoint.rstrip("/")
    return "" if any(os.environ.get(name) for name in _OTLP_VARIABLES) else None


def configure_sdk(options: TelemetryOptions) -> bool:
    """Install the SDK's tracer and meter providers for this process; ``False`` (and nothing installed) when
    ``OTEL_SDK_DISABLED`` is true. Needs the ``identityserver[otel]`` extra (``check_extras`` said so before)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = options.service_name or os.environ.get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE_NAME
    resource = Resource.create({SERVICE_NAME: name})
    tracer_provider = TracerProvider(resource=resource)
    readers: list[MetricReader] = []
    base = _otlp_base(options)
    if base is not None:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        spans = OTLPSpanExporter(endpoint=f"{base}/v1/traces") if base else OTLPSpanExporter()
        tracer_provider.add_span_processor(BatchSpanProcessor(spans))
        exporter = OTLPMetricExporter(endpoint=f"{base}/v1/metrics") if base else OTLPMetricExporter()
        readers.append(PeriodicExportingMetricReader(exporter))
    if options.prometheus:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader

        readers.append(PrometheusMetricReader())
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=readers))
    return True


class PrometheusEndpoint:
    """Answers ``GET <path>`` with the metrics in the Prometheus text format (this worker's, from the
    ``prometheus_client`` registry the SDK's reader fills); every other request goes to ``app``."""

    def __init__(self, app: ASGIApp, path: str) -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or relative_path(scope) != self.path:
            await self.app(scope, receive, send)
            return
        from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

        if scope["method"] not in ("GET", "HEAD"):
            status, body, headers = 405, b"", [(b"allow", b"GET, HEAD")]
        else:
            status, body, headers = 200, generate_latest(REGISTRY), [(b"content-type", CONTENT_TYPE_LATEST.encode())]
        headers += [(b"cache-control", b"no-store"), (b"content-length", str(len(body)).encode("ascii"))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})


def instrument(app: ASGIApp, options: TelemetryOptions) -> ASGIApp:
    """Configure the SDK when telemetry is enabled and put the scrape endpoint in front when asked for."""
    if not options.enabled or not configure_sdk(options):
        return app
    return PrometheusEndpoint(app, options.prometheus_path) if options.prometheus else app
