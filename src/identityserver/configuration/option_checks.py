"""Checks of ``[options]`` that would otherwise fail only when the server builds its services or first uses them.

One function per option group keeps each feature's checks beside each other; ``check_options`` runs them all."""

from __future__ import annotations

from identityserver.configuration.errors import Where
from identityserver.hosting.forwarded import invalid_trusted_proxy
from identityserver.options import IdentityServerOptions
from identityserver.services.key_management.key_manager import options_problem

#: Smallest data-protection key lifetime (ASP.NET Data Protection refuses less than a week).
MIN_DATA_PROTECTION_KEY_LIFETIME = 7 * 86400


def _check_keys(options: IdentityServerOptions, source: str) -> None:
    problem = options_problem(options.key_management)
    if problem is not None:
        raise Where(source, "[options.key_management]").error(*problem)
    protection = Where(source, "[options.data_protection]")
    if not options.data_protection.application_name:
        raise protection.error("application_name", "must not be empty (it isolates the protected data)")
    if options.data_protection.key_lifetime < MIN_DATA_PROTECTION_KEY_LIFETIME:
        raise protection.error("key_lifetime", f"must be at least {MIN_DATA_PROTECTION_KEY_LIFETIME} seconds (7 days)")
    if options.data_protection.key_encryption_key_env and options.data_protection.key_encryption_key_file:
        raise protection.error("key_encryption_key_file", "set key_encryption_key_env or this, not both")


def _check_grants(options: IdentityServerOptions, source: str) -> None:
    if options.persisted_grants.refresh_token_reuse_grace_period < 0:
        raise Where(source, "[options.persisted_grants]").error(
            "refresh_token_reuse_grace_period", "must not be negative"
        )


def _check_hosting(options: IdentityServerOptions, source: str) -> None:
    telemetry = Where(source, "[options.telemetry]")
    if options.telemetry.log_format not in ("text", "json"):
        raise telemetry.error("log_format", 'must be "text" or "json"')
    if not options.telemetry.prometheus_path.startswith("/"):
        raise telemetry.error("prometheus_path", 'must start with "/"')
    if (bad := invalid_trusted_proxy(options.forwarded_headers.trusted_proxies)) is not None:
        raise Where(source, "[options.forwarded_headers]").error("trusted_proxies", f"{bad!r} is not an IP address")


def check_options(options: IdentityServerOptions, source: str) -> None:
    """Raise ``ConfigError`` naming the option group and field of the first problem."""
    _check_keys(options, source)
    _check_grants(options, source)
    _check_hosting(options, source)
