"""The ``identityserver`` command line: argument parsing and wiring only."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from identityserver.configuration.errors import ConfigError


def _serve(args: argparse.Namespace) -> int:
    from identityserver.cli import serve as server
    from identityserver.configuration.demo import DEMO_CREDENTIALS
    from identityserver.constants import ProtocolRoutePaths

    try:
        config = server.load(args.config)
    except ConfigError as exc:
        print(f"identityserver: configuration error: {exc}", file=sys.stderr)
        return 2
    from identityserver.configuration.host import check_extras
    from identityserver.crypto.key_encryption import load_key_encryption_key

    check_extras(config)  # a missing extra or key-encryption key stops here, before anything is printed or started
    protection = config.options.data_protection
    load_key_encryption_key(protection.key_encryption_key_env, protection.key_encryption_key_file)
    issuer = config.options.issuer_uri or args.issuer or server.default_issuer(args.host, args.port)
    tls = _tls_settings(args)
    if isinstance(tls, str):
        print(f"identityserver: {tls}", file=sys.stderr)
        return 2
    if tls and issuer and not (config.options.issuer_uri or args.issuer):
        issuer = "https://" + issuer.removeprefix("http://")
    if args.tls_client_ca and not config.options.mutual_tls.enabled:
        print("identityserver: warning: --tls-client-ca without [options.mutual_tls] enabled: certificates are unused")
    shown = issuer or f"http://<request host>:{args.port}"
    print(f"identityserver: issuer {shown}")
    print(f"  discovery   {shown}{ProtocolRoutePaths.DISCOVERY}")
    for name, path in (
        ("token", ProtocolRoutePaths.TOKEN),
        ("authorize", ProtocolRoutePaths.AUTHORIZE),
        ("userinfo", ProtocolRoutePaths.USER_INFO),
        ("introspect", ProtocolRoutePaths.INTROSPECTION),
        ("revocation", ProtocolRoutePaths.REVOCATION),
        ("end session", ProtocolRoutePaths.END_SESSION),
    ):
        print(f"  {name:<11} {shown}{path}")
    if not args.config:
        print("  demo configuration (use --config FILE.toml for your own):")
        for kind, text in DEMO_CREDENTIALS:
            print(f"    {kind:<6} {text}")
    try:
        database_url, notes = _prepare_database_in_a_child(args.config, args.state_path)
    except Exception as exc:  # DatabaseStateError, DatabaseUrlError, or the database being unreachable
        problem = str(exc)
        kind = "" if problem.startswith("configuration error:") else "database error: "
        print(f"identityserver: {kind}{problem}", file=sys.stderr)
        return 2
    print(f"  database    {_shown_url(database_url)}")
    for level, note in notes:
        print(f"identityserver: {'warning: ' if level >= logging.WARNING else ''}{note}")
    sys.stdout.flush()
    server.run(
        args.config,
        args.host,
        args.port,
        args.workers,
        args.state_path,
        issuer,
        args.log_level,
        start_up_notes=notes,
        log_format=args.log_format or config.options.telemetry.log_format,
        shutdown_timeout=args.shutdown_timeout,
        tls=tls,
        loop=args.loop or server.DEFAULT_LOOP,
        keep_alive_timeout=args.keep_alive_timeout,
    )
    return 0


def _tls_settings(args: argparse.Namespace) -> dict[str, Any] | str | None:
    """``--tls-cert``/``--tls-key``/``--tls-client-ca`` as uvicorn arguments, or what is wrong with them."""
    if not (args.tls_cert or args.tls_key or args.tls_client_ca):
        return None
    if not (args.tls_cert and args.tls_key):
        return "--tls-cert and --tls-key go together (--tls-client-ca needs both)"
    from identityserver.cli.tls import ssl_settings

    return ssl_settings(args.tls_cert, args.tls_key, args.tls_client_ca)


def _non_negative_seconds(value: str) -> int:
    try:
        seconds = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of seconds, got {value!r}") from None
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value!r}")
    return seconds


def _positive_seconds(value: str) -> int:
    seconds = _non_negative_seconds(value)
    if seconds == 0:
        raise argparse.ArgumentTypeError("must be at least 1 second")
    return seconds


def _prepare_database_in_a_child(config_path: str | None, state_path: str | None) -> tuple[str, list[tuple[int, str]]]:
    """Migrate the database and apply the configuration in a short-lived child process (``identityserver db
    prepare``), so that the serving process never imports Alembic (about 10 MiB a worker would keep for its whole
    life), and so that the configuration is applied once, whatever the number of workers. Returns the database
    URL (the child's last line) and what the child reported, with its log level."""
    import subprocess

    command = [sys.executable, "-m", "identityserver", "db", "prepare"]
    if config_path:
        command += ["--config", config_path]
    if state_path:
        command += ["--state-path", state_path]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        message = completed.stderr.strip().removeprefix("identityserver: ")
        raise RuntimeError(message or f"database preparation failed ({completed.returncode})")
    *reported, url = completed.stdout.strip().splitlines()
    notes = []
    for line in reported:
        note = line.removeprefix("identityserver: ")
        warning = note.startswith("warning: ")
        notes.append((logging.WARNING if warning else logging.INFO, note.removeprefix("warning: ")))
    return url, notes


def _shown_url(database_url: str) -> str:
    from identityserver.storage.sqlalchemy.engine import describe, to_async_url

    return describe(to_async_url(database_url)).replace("+aiosqlite", "").replace("+asyncpg", "")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="identityserver", description="OpenID Connect and OAuth 2.0 server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server (the demo configuration without --config)")
    serve.add_argument("--config", help="TOML configuration file")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--state-path", help="folder for keys and the data-protection key ring (default ./.identityserver)"
    )
    serve.add_argument("--issuer", help="issuer URL (default: from the configuration or the bind address)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument(
        "--log-format",
        choices=["text", "json"],
        help="text, or one JSON object a line (default: [options.telemetry] log_format, else text)",
    )
    serve.add_argument(
        "--shutdown-timeout",
        type=_non_negative_seconds,
        default=30,
        help="seconds requests in flight may take to finish after SIGTERM (default 30)",
    )
    serve.add_argument(
        "--keep-alive-timeout",
        type=_positive_seconds,
        default=130,
        help="seconds an idle kept-alive connection stays open (default 130, Kestrel's); keep it above the idle "
        "timeout of the load balancer or proxy in front (docs/operations.md)",
    )
    serve.add_argument(
        "--loop",
        choices=["asyncio", "uvloop"],
        help="event loop of the workers (default: the measured choice, docs/performance.md)",
    )
    serve.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain) instead of plain HTTP")
    serve.add_argument("--tls-key", help="the PEM private key of --tls-cert")
    serve.add_argument(
        "--tls-client-ca",
        help="PEM CA certificates that client certificates must chain to; asks clients for one (mutual TLS, "
        "[options.mutual_tls] enabled)",
    )
    serve.set_defaults(handler=_serve)
    from identityserver.cli.database import add_database_commands
    from identityserver.cli.keyring import add_keyring_commands
    from identityserver.cli.sessions import add_session_commands

    add_database_commands(commands)
    add_session_commands(commands)
    add_keyring_commands(commands)
    from identityserver.cli.clients import add_client_commands
    from identityserver.cli.grants import add_grant_commands
    from identityserver.cli.keys import add_key_commands
    from identityserver.cli.users import add_user_commands

    add_client_commands(commands)
    add_key_commands(commands)
    add_grant_commands(commands)
    add_user_commands(commands)
    from identityserver.cli.openapi import add_openapi_command

    add_openapi_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; ``argv`` (for a caller in this process) or, as a program, ``sys.argv``."""
    if argv is None:  # run as a program: `serve` continues on an optimized interpreter (cli/interpreter.py)
        from identityserver.cli.interpreter import reexecute_optimized

        reexecute_optimized()
    parser = build_parser()
    args = parser.parse_args(argv)
    from identityserver._utils.extras import MissingExtraError
    from identityserver.crypto.key_encryption import KeyEncryptionError

    try:
        result: int = args.handler(args)
    except (MissingExtraError, KeyEncryptionError) as exc:  # wherever a command first needs the extra or the KEK
        print(f"identityserver: {exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
