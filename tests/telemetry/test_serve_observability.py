"""``serve`` with ``[options.telemetry]``: JSON logs from the server's and uvicorn's loggers, the Prometheus
scrape endpoint fed by the SDK, and the configuration checks (bad values, the missing extra)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tomllib

import httpx
import pytest

from identityserver._utils import extras
from identityserver._utils.extras import MissingExtraError
from identityserver.cli.telemetry import PrometheusEndpoint, log_config
from identityserver.configuration.host import check_extras
from identityserver.configuration.loader import ConfigError, parse_configuration
from identityserver.telemetry import tracer
from identityserver.telemetry.logs import JsonFormatter
from tests.support.client_auth import all_events
from tests.support.process import MACHINE_CLIENT_CONFIG, free_port, wait_until_up
from tests.support.server import make_builder, running
from tests.telemetry.sdk import sdk, telemetry_on

CONFIG = (
    """
[options.telemetry]
enabled = true
prometheus = true
log_format = "json"
service_name = "idp-under-test"
"""
    + MACHINE_CLIENT_CONFIG
)


def test_serve_writes_json_logs_and_serves_prometheus_metrics(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(CONFIG)
    port = free_port()
    log = tmp_path / "out.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "identityserver",
                "serve",
                "--config",
                str(config),
                "--port",
                str(port),
                "--state-path",
                str(tmp_path / "state"),
                "--log-level",
                "info",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(f"{base}/.well-known/openid-configuration", process)
            token = httpx.post(
                f"{base}/connect/token", data={"grant_type": "client_credentials"}, auth=("machine", "machine-secret")
            )
            assert token.status_code == 200
            scraped = httpx.get(f"{base}/metrics")
            assert scraped.status_code == 200
            assert scraped.headers["content-type"].startswith("text/plain")
            assert scraped.headers["cache-control"] == "no-store"
            text = scraped.text
            issued = [line for line in text.splitlines() if line.startswith("identityserver_tokens_issued_total{")]
            assert len(issued) == 1, text
            assert 'client_id="machine"' in issued[0] and 'grant_type="client_credentials"' in issued[0]
            assert issued[0].endswith(" 1.0")
            assert "identityserver_request_duration_seconds_bucket{" in text
            assert 'service_name="idp-under-test"' in text
            assert httpx.post(f"{base}/metrics").status_code == 405
        finally:
            process.terminate()
            process.wait(timeout=15)
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in lines]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    loggers = {e["logger"] for e in entries}
    assert "uvicorn.error" in loggers  # uvicorn's start-up lines go through the same formatter
    assert any(e["logger"].startswith("identityserver") for e in entries), loggers
    assert any("Application startup complete" in e["message"] for e in entries)
    assert "machine-secret" not in log.read_text()


def test_without_prometheus_the_metrics_path_is_not_routed():
    sdk()

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"inner"})

    async def call(asgi, path):
        sent = []

        async def send(message):
            sent.append(message)

        await asgi({"type": "http", "method": "GET", "path": path, "root_path": "", "headers": []}, None, send)
        return sent[0]["status"], sent[1]["body"]

    import asyncio

    assert asyncio.run(call(app, "/metrics")) == (404, b"inner")
    status, body = asyncio.run(call(PrometheusEndpoint(app, "/metrics"), "/metrics"))
    assert status == 200 and b"# HELP" in body
    assert asyncio.run(call(PrometheusEndpoint(app, "/metrics"), "/other")) == (404, b"inner")


def test_json_formatter_adds_trace_ids_extra_fields_and_exceptions():
    sdk()
    formatter = JsonFormatter()
    record = logging.LogRecord("identityserver.token", logging.INFO, __file__, 1, "issued %s", ("x",), None)
    record.client_id = "web"
    plain = json.loads(formatter.format(record))
    assert plain["message"] == "issued x" and plain["logger"] == "identityserver.token"
    assert plain["level"] == "INFO" and plain["client_id"] == "web"
    assert "trace_id" not in plain
    with tracer.start_as_current_span("work") as span:
        inside = json.loads(formatter.format(record))
    assert inside["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert inside["span_id"] == format(span.get_span_context().span_id, "016x")
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "ValueError: boom" in json.loads(formatter.format(failed))["exception"]


async def test_log_lines_inside_a_request_carry_its_trace_id(caplog):
    telemetry = sdk()
    builder = make_builder()
    builder.options = telemetry_on(all_events(builder.options))  # the failure event is logged in the request
    formatter = JsonFormatter()
    captured: list[dict] = []

    class Capture(logging.Handler):
        def emit(self, record):
            captured.append(json.loads(formatter.format(record)))

    handler = Capture(logging.DEBUG)
    logging.getLogger("identityserver").addHandler(handler)
    old = logging.getLogger("identityserver").level
    logging.getLogger("identityserver").setLevel(logging.DEBUG)
    try:
        async with running(builder) as server:
            telemetry.spans.clear()
            wrong = await server.token({"grant_type": "client_credentials"}, auth=("m2m", "wrong"))
            assert wrong.status_code == 401
    finally:
        logging.getLogger("identityserver").removeHandler(handler)
        logging.getLogger("identityserver").setLevel(old)
    (request,) = [s for s in telemetry.finished() if s.name == "POST /connect/token"]
    in_request = [e for e in captured if e.get("trace_id") == format(request.context.trace_id, "032x")]
    assert in_request, captured


def test_log_config_routes_uvicorn_through_the_root_handler():
    config = log_config("debug", "json")
    assert config["formatters"]["default"] == {"()": "identityserver.telemetry.logs.JsonFormatter"}
    assert config["root"]["level"] == "DEBUG"
    assert config["loggers"]["uvicorn.error"]["propagate"] is True
    assert "()" not in log_config("info", "text")["formatters"]["default"]


@pytest.mark.parametrize(
    ("toml", "field"),
    [
        ('log_format = "xml"', "log_format"),
        ('prometheus_path = "metrics"', "prometheus_path"),
        ("enabled = 1", "enabled"),
    ],
)
def test_bad_telemetry_options_name_the_field(toml, field):
    with pytest.raises(ConfigError) as error:
        parse_configuration(tomllib.loads(f"[options.telemetry]\n{toml}\n"), "c.toml")
    assert "c.toml: [options.telemetry]" in str(error.value)
    assert f'"{field}"' in str(error.value)


def test_enabled_telemetry_without_the_sdk_names_the_extra(monkeypatch):
    config = parse_configuration(tomllib.loads("[options.telemetry]\nenabled = true\n"), "c.toml")
    check_extras(config)  # installed here
    real = extras.importlib.util.find_spec
    monkeypatch.setattr(
        extras.importlib.util, "find_spec", lambda name: None if name.startswith("opentelemetry.sdk") else real(name)
    )
    with pytest.raises(MissingExtraError) as error:
        check_extras(config)
    assert "identityserver[otel]" in str(error.value)
    assert "[options.telemetry] enabled = true" in str(error.value)


def test_serve_refuses_to_start_when_the_extra_is_missing(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[options.telemetry]\nenabled = true\n")
    # the command line in a process where the SDK cannot be imported (as without the extra)
    script = (
        "import sys; sys.modules['opentelemetry.sdk'] = None\n"
        "from identityserver.cli import main\n"
        f"sys.exit(main(['serve', '--config', {str(config)!r}, '--state-path', {str(tmp_path)!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "identityserver[otel]" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_log_format_flag_overrides_the_file(monkeypatch, tmp_path):
    from identityserver import cli
    from identityserver.cli import serve

    config = tmp_path / "c.toml"
    config.write_text('[options.telemetry]\nlog_format = "text"\n')
    seen: dict[str, object] = {}
    monkeypatch.setattr(serve, "run", lambda *args, **kwargs: seen.update(kwargs))
    monkeypatch.setattr(cli, "_prepare_database_in_a_child", lambda *args: ("sqlite:///x.db", []))
    assert cli.main(["serve", "--config", str(config), "--log-format", "json"]) == 0
    assert seen["log_format"] == "json"
    assert cli.main(["serve", "--config", str(config)]) == 0
    assert seen["log_format"] == "text"
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["serve", "--log-format", "xml"])
