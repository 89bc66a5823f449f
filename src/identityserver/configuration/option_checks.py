"""Checks of ``[options]`` that would otherwise fail only when the server builds its services or first uses them.

One function per option group keeps each feature's checks beside each other; ``check_options`` runs them all."""

from __future__ import annotations

import re

from identityserver.configuration.errors import Where
from identityserver.hosting.forwarded import invalid_trusted_proxy
from identityserver.hosting.hosts import invalid_allowed_host
from identityserver.models.security_profile import FAPI_SIGNING_ALGORITHMS, SECURITY_PROFILES
from identityserver.options import IdentityServerOptions
from identityserver.registration.policy import policy_problem
from identityserver.registration.software_statement import issuers_problem
from identityserver.services.key_management.key_manager import options_problem

#: Largest ``[options.clock] tolerance``: two nodes' clocks then differ by at most 1.5 s.
MAX_CLOCK_TOLERANCE = 0.5

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
    if (bad := invalid_allowed_host(options.allowed_hosts)) is not None:
        raise Where(source, "[options]").error("allowed_hosts", f"{bad!r} is not a host or host:port")
    clock = Where(source, "[options.clock]")
    if not 0 < options.clock.tolerance <= MAX_CLOCK_TOLERANCE:
        # nodes then differ by less than the DPoP nonce's leeway (validation/dpop.py NONCE_CLOCK_LEEWAY)
        raise clock.error("tolerance", f"must be more than 0 and at most {MAX_CLOCK_TOLERANCE} seconds")
    if not 1 <= options.clock.synchronization_interval <= 3600:
        raise clock.error("synchronization_interval", "must be between 1 and 3600 seconds")


def _check_security_profile(options: IdentityServerOptions, source: str) -> None:
    if options.security_profile is not None and options.security_profile not in SECURITY_PROFILES:
        raise Where(source, "[options]").error("security_profile", f"expected one of {', '.join(SECURITY_PROFILES)}")
    if options.security_profile and not set(options.key_management.signing_algorithms) & set(FAPI_SIGNING_ALGORITHMS):
        # FAPI 2.0 SP §5.4.1: ID tokens and JARM responses are signed with PS256, ES256 or EdDSA only
        raise Where(source, "[options.key_management]").error(
            "signing_algorithms", "FAPI 2.0 needs PS256 or ES256 among the signing algorithms"
        )
    if options.security_profile and not 5 <= options.pushed_authorization.lifetime <= 600:
        # FAPI 2.0 SP §5.3.2.2: request_uri values live between 5 and 600 seconds
        raise Where(source, "[options.pushed_authorization]").error("lifetime", "FAPI 2.0 needs 5 to 600 seconds")


def _check_registration(options: IdentityServerOptions, source: str) -> None:
    registration = options.dynamic_client_registration
    problem = policy_problem(registration) or issuers_problem(registration)
    if problem is not None:
        raise Where(source, "[options.dynamic_client_registration]").error(*problem)


def _check_mutual_tls(options: IdentityServerOptions, source: str) -> None:
    mtls = Where(source, "[options.mutual_tls]")
    if (bad := invalid_trusted_proxy(options.mutual_tls.trusted_proxies)) is not None:
        raise mtls.error("trusted_proxies", f"{bad!r} is not an IP address or network")
    if not re.fullmatch(r"[A-Za-z0-9-]+", options.mutual_tls.client_certificate_header):
        raise mtls.error("client_certificate_header", "must be a header name")
    domain = options.mutual_tls.domain_name
    if domain is not None and not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?", domain):
        raise mtls.error("domain_name", "must be a host name (mtls.example.com) or a sub-domain label (mtls)")


def _check_device_flow(options: IdentityServerOptions, source: str) -> None:
    device = Where(source, "[options.device_flow]")
    settings = options.device_flow
    if settings.default_user_code_type.lower() not in ("numeric", "base20"):
        raise device.error("default_user_code_type", 'must be "numeric" or "base20"')
    for name in ("interval", "user_code_failures_per_address", "user_code_failures_per_session"):
        if getattr(settings, name) < 1:
            raise device.error(name, "must be at least 1")
    if settings.user_code_failure_window < 1:
        raise device.error("user_code_failure_window", "must be at least 1 second")


def _check_ciba(options: IdentityServerOptions, source: str) -> None:
    ciba = Where(source, "[options.ciba]")
    for name in ("default_lifetime", "default_polling_interval", "notification_timeout", "notification_max_attempts"):
        if getattr(options.ciba, name) <= 0:
            raise ciba.error(name, "must be positive")


def _check_pushed_authorization(options: IdentityServerOptions, source: str) -> None:
    pushed = Where(source, "[options.pushed_authorization]")
    for name in ("lifetime", "interaction_lifetime"):
        if getattr(options.pushed_authorization, name) <= 0:
            raise pushed.error(name, "must be positive")


def _check_dynamic_providers(options: IdentityServerOptions, source: str) -> None:
    prefix = options.dynamic_providers.path_prefix
    if not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", prefix):
        raise Where(source, "[options.dynamic_providers]").error("path_prefix", "expected a path such as /federation")
    if options.caching.identity_provider_cache_duration < 0:
        raise Where(source, "[options.caching]").error("identity_provider_cache_duration", "must not be negative")


def _check_second_factor(options: IdentityServerOptions, source: str) -> None:
    value = options.authentication.mfa_acr_value
    # OIDC Core §3.1.2.1: acr_values is space-separated, and idp: values name upstream providers
    if not value or not value.isprintable() or " " in value or value.startswith("idp:"):
        raise Where(source, "[options.authentication]").error(
            "mfa_acr_value", "expected one acr value without spaces (not idp:...)"
        )


def check_options(options: IdentityServerOptions, source: str) -> None:
    """Raise ``ConfigError`` naming the option group and field of the first problem."""
    _check_keys(options, source)
    _check_grants(options, source)
    _check_hosting(options, source)
    _check_device_flow(options, source)
    _check_mutual_tls(options, source)
    _check_security_profile(options, source)
    _check_registration(options, source)
    _check_ciba(options, source)
    _check_pushed_authorization(options, source)
    _check_dynamic_providers(options, source)
    _check_second_factor(options, source)
