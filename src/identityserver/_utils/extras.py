"""Optional dependencies installed through extras (``identityserver[postgres]``, ``identityserver[redis]``):
checked where a configuration first needs them, so that a missing driver stops start-up with the extra to install
instead of an ``ImportError`` from deep inside a driver loader."""

from __future__ import annotations

import importlib.util

#: module -> (extra, what needs it)
EXTRAS = {
    "asyncpg": ("postgres", "a postgresql:// database_url"),
    "redis": ("redis", "a redis_url"),
    "opentelemetry.sdk": ("otel", "[options.telemetry] enabled = true"),
    "prometheus_client": ("otel", "[options.telemetry] prometheus = true"),
}


class MissingExtraError(RuntimeError):
    """The configuration needs an optional dependency that is not installed."""


def require_extra(module: str) -> None:
    """Raise ``MissingExtraError`` naming the extra to install when ``module`` cannot be imported."""
    extra, needed_for = EXTRAS[module]
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise MissingExtraError(
            f"{needed_for} needs the {module!r} package, which is not installed: "
            f"install identityserver[{extra}] (pip install 'identityserver[{extra}]')"
        )
