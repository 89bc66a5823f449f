"""``identityserver sessions list | end``: server-side session management from the command line (Duende
``ISessionManagementService``). Works on the database the server uses; sessions must be server-side
(``[options.server_side_sessions] enabled = true``)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from typing import Any

from identityserver.configuration.errors import ConfigError

EXIT_ERROR = 2


def _fail(message: str) -> int:
    print(f"identityserver: {message}", file=sys.stderr)
    return EXIT_ERROR


async def _with_services(args: argparse.Namespace, work: Any) -> Any:
    from identityserver.cli import serve as server
    from identityserver.configuration.host import create_builder

    config = server.load(args.config)
    if args.database_url:
        config.database_url = args.database_url
    options = config.options
    # the command always reads the sessions table; background jobs of a server are not started here
    sessions = dataclasses.replace(options.server_side_sessions, enabled=True, remove_expired_sessions=False)
    config.options = dataclasses.replace(options, server_side_sessions=sessions)
    services = create_builder(config, args.state_path, args.issuer).build()
    for step in services.startup:
        await step()
    try:
        return await work(services, config.options.issuer_uri or args.issuer)
    finally:
        await services.backchannel_logout.drain()
        for step in services.shutdown:
            await step()


def _list(args: argparse.Namespace) -> int:
    from identityserver.models.sessions import SessionQuery

    async def work(services: Any, issuer: str | None) -> int:
        token: str | None = None
        shown = 0
        while True:
            query = SessionQuery(
                results_token=token,
                request_page_size=args.page_size,
                count_requested=True,
                subject_id=args.subject,
                session_id=args.session,
                display_name=args.display_name,
            )
            result, sessions = await services.session_management.query_sessions(query)
            for session in sessions:
                print(
                    f"{session.subject_id}\t{session.session_id or '-'}\t{session.display_name or '-'}\t"
                    f"created {session.created}\texpires {session.expires or 'never'}\t"
                    f"clients {','.join(session.client_ids) or '-'}"
                )
                shown += 1
            token = result.results_token
            if not result.has_next_results or not token:
                break
        print(f"identityserver: {shown} session(s)")
        return 0

    try:
        return int(asyncio.run(_with_services(args, work)))
    except (ConfigError, ValueError, OSError) as exc:
        return _fail(str(exc))


def _end(args: argparse.Namespace) -> int:
    from identityserver.services.session_management import RemoveSessionsContext

    async def work(services: Any, issuer: str | None) -> int:
        if args.notify and not issuer:
            raise ValueError("back-channel logout needs the issuer: set issuer_uri in the configuration or --issuer")
        context = RemoveSessionsContext(
            subject_id=args.subject,
            session_id=args.session,
            send_backchannel_logout_notification=args.notify,
            revoke_tokens=not args.keep_tokens,
            revoke_consents=not args.keep_consents,
        )
        removed: int = await services.session_management.remove_sessions(context, issuer or "")
        print(f"identityserver: ended {removed} session(s) of {args.subject}")
        return 0

    try:
        return int(asyncio.run(_with_services(args, work)))
    except (ConfigError, ValueError, OSError) as exc:
        return _fail(str(exc))


def add_session_commands(commands: Any) -> None:
    sessions = commands.add_parser("sessions", help="list or end server-side user sessions")
    sub = sessions.add_subparsers(dest="sessions_command", required=True)
    for name, handler, text in (("list", _list, "list sessions"), ("end", _end, "end a user's sessions")):
        parser = sub.add_parser(name, help=text)
        parser.add_argument("--config", help="TOML configuration file (default: the demo configuration)")
        parser.add_argument("--database-url", help="database (default: from the configuration or the state folder)")
        parser.add_argument("--state-path", help="state folder (default ./.identityserver)")
        parser.add_argument("--issuer", help="issuer URL, for back-channel logout tokens")
        parser.set_defaults(handler=handler)
        if name == "list":
            parser.add_argument("--subject", help="subject id prefix")
            parser.add_argument("--session", help="session id prefix")
            parser.add_argument("--display-name", help="display name prefix")
            parser.add_argument("--page-size", type=int, default=100)
        else:
            parser.add_argument("--subject", required=True, help="the user's subject id")
            parser.add_argument("--session", help="only this session id")
            parser.add_argument("--keep-tokens", action="store_true", help="do not revoke refresh/reference tokens")
            parser.add_argument("--keep-consents", action="store_true", help="do not revoke consents")
            parser.add_argument(
                "--no-notify",
                dest="notify",
                action="store_false",
                help="do not send back-channel logout to the session's clients",
            )
