"""Health probes: ``/health/live`` (the process serves) and ``/health/ready`` (every ``HealthCheck`` passes).

Checks are contributed through the composition (``builder.add_item(HealthCheck, ...)``; the SQL stores add the
database one, the Redis replay cache its own, the wiring the signing-key one). Each runs with a timeout, so a
hung dependency makes the probe answer 503 instead of hanging it. Answers carry no cookies, are never cached,
and name what failed without connection strings or stack traces."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from typing import Protocol

from identityserver.hosting.middleware import ASGIApp, Receive, Scope, Send, relative_path
from identityserver.services.protocols import KeyMaterialService

logger = logging.getLogger("identityserver.health")

LIVE_PATH = "/health/live"
READY_PATH = "/health/ready"
CHECK_TIMEOUT = 2.0
"""Seconds each check may take before it counts as failed."""
_MAX_REASON = 200
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)[^/@\s]*@")
_PASSWORD_PAIR = re.compile(r"(?i)(password|passwd|pwd)\s*=\s*\S+")


class HealthCheck(Protocol):
    """One dependency the server needs to serve requests."""

    name: str
    """Key of the check in the ``/health/ready`` answer (``database``, ``redis``, ``signing_keys``)."""

    async def check(self) -> str | None:
        """``None`` when healthy, else a short reason for operators (no secrets, no connection strings)."""
        ...


def describe_error(error: BaseException) -> str:
    """``TypeName: message`` of the innermost cause, on one line, shortened, with credentials removed."""
    root = error
    seen = {id(root)}
    while True:
        inner = getattr(root, "orig", None) or root.__cause__
        if not isinstance(inner, BaseException) or id(inner) in seen:
            break
        seen.add(id(inner))
        root = inner
    message = " ".join(str(root).split())
    message = message.split("(Background on this error", 1)[0].strip()  # SQLAlchemy's link, noise here
    message = _PASSWORD_PAIR.sub(r"\1=***", _URL_CREDENTIALS.sub(r"\g<scheme>***@", message))
    text = f"{type(root).__name__}: {message}" if message else type(root).__name__
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."


class SigningKeyHealthCheck:
    """Ready when the key material has at least one signing credential (loaded or created at start-up)."""

    name = "signing_keys"

    def __init__(self, key_material: KeyMaterialService) -> None:
        self.key_material = key_material

    async def check(self) -> str | None:
        try:
            credentials = await self.key_material.get_all_signing_credentials()
        except Exception as error:
            return "unavailable: " + describe_error(error)
        return None if credentials else "no signing key loaded"


async def run_checks(checks: Sequence[HealthCheck], seconds: float = CHECK_TIMEOUT) -> dict[str, str]:
    """Every check concurrently, each bounded by ``seconds``: ``{name: "ok" or reason}``."""

    async def one(check: HealthCheck) -> str:
        try:
            reason = await asyncio.wait_for(check.check(), seconds)
        except TimeoutError:
            return f"timed out after {seconds:g} s"
        except Exception as error:
            return "failed: " + describe_error(error)
        return "ok" if reason is None else reason

    results = await asyncio.gather(*(one(check) for check in checks))
    return {check.name: result for check, result in zip(checks, results, strict=True)}


class HealthEndpoints:
    """Answers ``GET``/``HEAD`` on the probe paths before anything else (no authentication, no cookies);
    every other request goes to ``app``."""

    def __init__(self, app: ASGIApp, checks: Sequence[HealthCheck], timeout: float = CHECK_TIMEOUT) -> None:
        self.app = app
        self.checks = list(checks)
        self.timeout = timeout
        self._failing: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = relative_path(scope) if scope["type"] == "http" else ""
        if path not in (LIVE_PATH, READY_PATH):
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await self._send(send, scope, 405, {"error": "method not allowed"}, [(b"allow", b"GET, HEAD")])
            return
        if path == LIVE_PATH:
            await self._send(send, scope, 200, {"status": "healthy"})
            return
        results = await run_checks(self.checks, self.timeout)
        self._log_changes(results)
        healthy = all(result == "ok" for result in results.values())
        body = {"status": "healthy" if healthy else "unhealthy", "checks": results}
        await self._send(send, scope, 200 if healthy else 503, body)

    def _log_changes(self, results: dict[str, str]) -> None:
        """Log when a check starts or stops failing, not on every probe (they come every few seconds)."""
        for name, result in results.items():
            before = self._failing.get(name)
            if result != "ok" and before is None:
                logger.warning("health check %s failing: %s", name, result)
                self._failing[name] = result
            elif result == "ok" and before is not None:
                logger.info("health check %s recovered", name)
                del self._failing[name]

    @staticmethod
    async def _send(
        send: Send, scope: Scope, status: int, body: object, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        content = json.dumps(body, separators=(",", ":")).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"cache-control", b"no-store"),
            (b"content-length", str(len(content)).encode("ascii")),
            *(extra or []),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else content})
