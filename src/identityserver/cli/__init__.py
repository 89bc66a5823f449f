"""The ``identityserver`` command line: argument parsing and wiring only."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from identityserver.configuration.loader import ConfigError


def _serve(args: argparse.Namespace) -> int:
    from identityserver.cli import serve as server
    from identityserver.configuration.demo import DEMO_CREDENTIALS
    from identityserver.constants import ProtocolRoutePaths

    try:
        config = server.load(args.config)
    except ConfigError as exc:
        print(f"identityserver: configuration error: {exc}", file=sys.stderr)
        return 2
    issuer = config.options.issuer_uri or args.issuer or server.default_issuer(args.host, args.port)
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
        database_url = _prepare_database_in_a_child(args.config, args.state_path)
    except Exception as exc:  # DatabaseStateError, DatabaseUrlError, or the database being unreachable
        print(f"identityserver: database error: {exc}", file=sys.stderr)
        return 2
    print(f"  database    {_shown_url(database_url)}")
    sys.stdout.flush()
    server.run(args.config, args.host, args.port, args.workers, args.state_path, issuer, args.log_level)
    return 0


def _prepare_database_in_a_child(config_path: str | None, state_path: str | None) -> str:
    """Migrate and load the database in a short-lived child process (``identityserver db prepare``), so that
    the serving process never imports Alembic (about 10 MiB a worker would keep for its whole life)."""
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
    return completed.stdout.strip().splitlines()[-1]


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
    serve.set_defaults(handler=_serve)
    from identityserver.cli.database import add_database_commands
    from identityserver.cli.sessions import add_session_commands

    add_database_commands(commands)
    add_session_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
