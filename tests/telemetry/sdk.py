"""The OpenTelemetry SDK with in-memory exporters, installed once per test process (the API allows one global
tracer and meter provider), plus the Prometheus reader so that the scrape endpoint has something to serve."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from identityserver.options import IdentityServerOptions, TelemetryOptions


@dataclass
class Sdk:
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def points(self, name: str) -> list[Any]:
        """Every data point of the metric ``name`` collected now (cumulative since the process started)."""
        data = self.metrics.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found.extend(metric.data.data_points)
        return found

    def total(self, name: str, **attributes: Any) -> float:
        """The sum of the counter ``name`` over the points whose attributes include ``attributes``."""
        return sum(p.value for p in self.points(name) if all(p.attributes.get(k) == v for k, v in attributes.items()))


@functools.cache
def sdk() -> Sdk:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    trace.set_tracer_provider(tracer_provider)
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader, PrometheusMetricReader()]))
    return Sdk(spans, reader)


def telemetry_on(options: IdentityServerOptions) -> IdentityServerOptions:
    return replace(options, telemetry=TelemetryOptions(enabled=True))
