"""HTTP fuzzing of a running server from its own OpenAPI description (``identityserver openapi``).

Two generators: schemathesis cases from the description (every parameter of every routed endpoint, known client
ids, scopes and redirect URIs mixed with arbitrary Unicode), and raw bytes (invalid UTF-8, broken percent-encoding,
oversize values) that no schema produces. Every response is checked: no 5xx, no stack trace or exception text, no
client secret echoed, and a refused request (4xx) leaves the database as it was. Used by ``tests/fuzz`` (a short
run in CI) and ``bench/fuzz.py`` (a long run by hand)."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

#: Rows that refused requests write on purpose: failed-login and registration throttles, replay-cache entries
#: of rejected proofs. Everything else must be unchanged by a 4xx.
BOOKKEEPING_GRANT_TYPES = ("login_failure", "throttle", "rate_limit", "registration_attempt")
LEAK_MARKERS = ("Traceback (most recent call last)", 'File "/', "sqlalchemy.", "asyncpg.", "sqlite3.")


@dataclass
class FuzzReport:
    requests: int = 0
    by_operation: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        ops = len(self.by_operation)
        return f"{self.requests} requests over {ops} operations, statuses {dict(sorted(self.statuses.items()))}"


def openapi_document(config: Path, issuer: str) -> dict[str, Any]:
    """The description the server's own command line prints for ``config``."""
    out = subprocess.run(
        [sys.executable, "-m", "identityserver", "openapi", "--config", str(config), "--issuer", issuer, "--ui"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    document: dict[str, Any] = json.loads(out.stdout)
    return document


def database_state(database: Path) -> dict[str, int]:
    """Row counts that a refused request must not change (bookkeeping grant types left out)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        state = {
            f"grants:{kind}": count
            for kind, count in db.execute('SELECT "Type", COUNT(*) FROM "PersistedGrants" GROUP BY "Type"')
            if not any(marker in kind for marker in BOOKKEEPING_GRANT_TYPES)
        }
        for table in ("Clients", "ServerSideSessions", "DeviceCodes"):
            state[table] = db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
    return state


class Fuzzer:
    def __init__(self, base_url: str, database: Path, secrets: list[str]) -> None:
        self.base_url = base_url
        self.database = database
        self.secrets = secrets
        self.http = httpx.Client(base_url=base_url, timeout=30, follow_redirects=False)
        self.report = FuzzReport()

    def close(self) -> None:
        self.http.close()

    def check(self, label: str, send: Any) -> None:
        """Send one request and record what is wrong with the answer."""
        before = database_state(self.database)
        try:
            response: httpx.Response = send()
        except (httpx.LocalProtocolError, httpx.InvalidURL, UnicodeEncodeError):
            return  # the client library refused to put this on the wire: nothing reached the server
        self.report.requests += 1
        self.report.by_operation[label] += 1
        self.report.statuses[response.status_code] += 1
        text = response.text
        problems = []
        if response.status_code >= 500:
            problems.append(f"status {response.status_code}")
        problems += [f"leaks {marker!r}" for marker in LEAK_MARKERS if marker in text]
        problems += ["echoes a client secret" for secret in self.secrets if secret in text]
        if 400 <= response.status_code < 500:
            after = database_state(self.database)
            if after != before:
                changed = {
                    k: (before.get(k), after.get(k))
                    for k in after.keys() | before.keys()
                    if before.get(k) != after.get(k)
                }
                problems.append(f"refused ({response.status_code}) but changed {changed}")
        if problems:
            request = response.request
            body = request.content[:300] if request.content else b""
            self.report.failures.append(f"{label}: {'; '.join(problems)} <- {request.method} {request.url} {body!r}")

    def fuzz_schema(self, document: dict[str, Any], examples: int) -> None:
        """Schemathesis cases for every operation of the description."""
        schema = schemathesis.openapi.from_dict(document)
        for result in schema.get_all_operations():
            operation = result.ok()
            label = f"{operation.method.upper()} {operation.path}"

            @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def run(case: Any) -> None:
                kwargs = case.as_transport_kwargs(base_url=self.base_url)
                kwargs.pop("cookies", None)
                self.check(label, lambda: self.http.request(**kwargs))

            run()

    def fuzz_raw(self, document: dict[str, Any], examples: int) -> None:
        """Bytes no schema produces: invalid UTF-8 and broken percent-encoding in query strings and form bodies,
        arbitrary bytes in the ``Authorization`` header."""
        for path, methods in document["paths"].items():
            for method in methods:
                self._fuzz_raw_operation(method, path, examples)

    def _fuzz_raw_operation(self, method: str, template: str, examples: int) -> None:
        label = f"raw {method.upper()} {template}"
        path = re.sub(r"\{[^}/]+\}", "x", template)  # path parameters get a plain value; the bytes go elsewhere

        @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(raw=st.binary(max_size=2048), header=st.binary(max_size=512), broken=st.booleans())
        def run(raw: bytes, header: bytes, broken: bool) -> None:
            encoded = raw.decode("latin-1") if broken else quote_from_bytes(raw, safe="=&")
            headers = {"Authorization": "Basic " + (quote_from_bytes(header) or "e30")}
            if method in ("get", "delete"):
                target = f"{path}?{encoded}"
                self.check(label, lambda: self.http.request(method.upper(), target, headers=headers))
            else:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                self.check(label, lambda: self.http.request(method.upper(), path, content=raw, headers=headers))

        run()
