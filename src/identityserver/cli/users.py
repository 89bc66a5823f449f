"""``identityserver users add | set-password | remove``: the SQL user store (``IdentityServerUsers``, the users of
``[[users]]`` and of self-service sign-up). Passwords come from stdin (``--password-stdin``) or a terminal
prompt, never from the command line (which other users of the machine and shell histories can read); they are
stored as argon2id hashes."""

from __future__ import annotations

import argparse
import secrets
import sys
from typing import Any

from identityserver.cli.admin import Admin, add_store_options, run
from identityserver.cli.output import EXIT_USAGE, CommandError


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.read().removesuffix("\n").removesuffix("\r")
    elif sys.stdin.isatty():
        import getpass

        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise CommandError("the passwords differ", EXIT_USAGE)
    else:
        raise CommandError("pass the password on stdin with --password-stdin", EXIT_USAGE)
    if not password:
        raise CommandError("the password is empty", EXIT_USAGE)
    if "\n" in password:
        raise CommandError("the password spans several lines (give one line on stdin)", EXIT_USAGE)
    return password


def parse_claims(values: list[str] | None) -> list[Any]:
    from identityserver.models.claims import Claim

    claims = []
    for value in values or []:
        name, sep, claim_value = value.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"--claim {value!r}: expected name=value", EXIT_USAGE)
        claims.append(Claim.of(name.strip(), claim_value))
    return claims


def _add(args: argparse.Namespace) -> int:
    async def work(admin: Admin) -> int:
        from identityserver.crypto.passwords import hash_password_off_loop
        from identityserver.models.users import TestUser
        from identityserver.storage.sqlalchemy import administration

        if not args.username.strip() or args.username != args.username.strip():
            raise CommandError(f"invalid username {args.username!r}", EXIT_USAGE)
        claims = parse_claims(args.claim)
        password = read_password(args.password_stdin)
        subject = args.subject_id or secrets.token_hex(8)
        user = TestUser(subject, args.username, await hash_password_off_loop(password), claims)
        try:
            await administration.add_user(admin.database, user)
        except administration.AlreadyExistsError as exc:
            raise CommandError(str(exc)) from exc
        admin.output.emit(
            {"username": user.username, "subject_id": subject, "claims": [c.to_dict() for c in claims]},
            [f"identityserver: added user {user.username} (subject {subject})"],
        )
        return 0

    return run(args, work)


def _set_password(args: argparse.Namespace) -> int:
    async def work(admin: Admin) -> int:
        from identityserver.crypto.passwords import hash_password_off_loop
        from identityserver.storage.sqlalchemy import administration
        from identityserver.storage.sqlalchemy.stores import SqlUserStore

        if await SqlUserStore(admin.database).find_by_username(args.username) is None:
            raise CommandError(f"no user {args.username!r}")  # before asking for a password
        password_hash = await hash_password_off_loop(read_password(args.password_stdin))
        try:
            subject = await administration.set_user_password(admin.database, args.username, password_hash)
        except administration.NotFoundError as exc:
            raise CommandError(str(exc)) from exc
        admin.output.emit(
            {"username": args.username, "subject_id": subject, "password_changed": True},
            [f"identityserver: changed the password of {args.username}"],
        )
        return 0

    return run(args, work)


def _remove(args: argparse.Namespace) -> int:
    async def work(admin: Admin) -> int:
        from identityserver.storage.sqlalchemy import administration

        try:
            subject = await administration.remove_user(admin.database, args.username)
        except administration.NotFoundError as exc:
            raise CommandError(str(exc)) from exc
        admin.output.emit(
            {"removed": args.username, "subject_id": subject},
            [
                f"identityserver: removed user {args.username} (subject {subject})",
                f"  their grants stay until they expire; `identityserver grants revoke --subject {subject}` "
                "removes them now",
            ],
        )
        return 0

    return run(args, work)


def add_user_commands(commands: Any) -> None:
    users = commands.add_parser("users", help="add users, set passwords, remove users (SQL user store)")
    sub = users.add_subparsers(dest="users_command", required=True)
    add = sub.add_parser("add", help="add a user (password from stdin or a prompt)")
    add.add_argument("username")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin (one line)")
    add.add_argument("--claim", action="append", metavar="NAME=VALUE", help="a claim (repeat)")
    add.add_argument("--subject-id", help="the subject id (default: random)")
    add.set_defaults(handler=_add)
    password = sub.add_parser("set-password", help="replace a user's password")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true", help="read the password from stdin (one line)")
    password.set_defaults(handler=_set_password)
    remove = sub.add_parser("remove", help="delete a user")
    remove.add_argument("username")
    remove.set_defaults(handler=_remove)
    for parser in (add, password, remove):
        add_store_options(parser)
