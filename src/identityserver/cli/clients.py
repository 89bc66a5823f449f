"""``identityserver clients list | show | add | remove`` and ``clients secrets add | remove``: the clients in the
database (Duende's ``ConfigurationDbContext.Clients``). A client is validated with the checks the configuration
file gets (``validation/client_configuration.py``) before anything is written, and each change is one
transaction. Running servers see a change when their client cache expires (``options.caching``)."""

from __future__ import annotations

import argparse
import dataclasses
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from identityserver.cli.admin import Admin, add_store_options, announce_client_change, parse_args_list, run
from identityserver.cli.output import EXIT_USAGE, CommandError, table
from identityserver.constants import SecretTypes
from identityserver.models.client import Client, Secret

T = TypeVar("T")
SECRET_BYTES = 32
"""256 bits of entropy for generated shared secrets (RFC 6749 §10.10)."""


def describe_secret(index: int, secret: Secret) -> dict[str, Any]:
    """What may be shown of a secret: never its value (a hash for shared secrets, a public key for JWK)."""
    return {
        "index": index,
        "type": secret.type,
        "description": secret.description,
        "expiration": secret.expiration.isoformat() if secret.expiration else None,
    }


def describe_client(client: Client) -> dict[str, Any]:
    document = dataclasses.asdict(client)
    document["client_secrets"] = [describe_secret(i, s) for i, s in enumerate(client.client_secrets, 1)]
    return document


def check_client(client: Client, admin: Admin) -> None:
    from identityserver.validation.client_configuration import validate_client

    problem = validate_client(client)
    if problem is None:
        available = admin.config.options.key_management.signing_algorithms
        wanted = client.allowed_identity_token_signing_algorithms
        if wanted and not set(wanted) & set(available):
            problem = ("allowed_identity_token_signing_algorithms", f"has none of {', '.join(available)}")
        elif client.authorization_signed_response_alg and client.authorization_signed_response_alg not in available:
            # the server has no key to sign its authorization responses with (JARM §2.1)
            problem = ("authorization_signed_response_alg", f"is not one of {', '.join(available)}")
    if problem is not None:
        raise CommandError(f'client "{client.client_id}": field "{problem[0]}": {problem[1]}', EXIT_USAGE)


async def load_client(admin: Admin, client_id: str) -> Client:
    from identityserver.storage.sqlalchemy.stores import SqlClientStore

    try:
        client = await SqlClientStore(admin.database).find_client_by_id(client_id)
    except ValueError as exc:
        raise CommandError(f"client {client_id!r} cannot be read: {exc}") from exc
    if client is None:
        raise CommandError(f"no client {client_id!r}")
    return client


async def change_client(admin: Admin, client_id: str, change: Callable[[Client], T]) -> T:
    """Read, change, validate and write back one client in one transaction; an unknown id changes nothing."""
    from identityserver.storage.sqlalchemy import administration

    def checked(client: Client) -> T:
        result = change(client)
        check_client(client, admin)
        return result

    try:
        return await administration.change_client(admin.database, client_id, checked, admin.clock.utc_now())
    except administration.NotFoundError as exc:
        raise CommandError(str(exc)) from exc


def new_secret(description: str | None, expiration: datetime | None) -> tuple[str, Secret]:
    value = secrets.token_urlsafe(SECRET_BYTES)
    from identityserver.crypto.hashing import sha256_base64

    return value, Secret(sha256_base64(value), SecretTypes.SHARED_SECRET, description, expiration)


def parse_expiration(text: str | None, now: datetime) -> datetime | None:
    """``90d`` (days from now) or an RFC 3339 date or date-time (UTC when no offset is given)."""
    if text is None:
        return None
    value = text.strip()
    if value.endswith("d") and value[:-1].isascii() and value[:-1].isdigit():
        return now + timedelta(days=int(value[:-1]))
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--expiration {text!r}: expected e.g. 90d or 2027-01-31T00:00:00Z", EXIT_USAGE) from exc
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if parsed <= now:
        raise CommandError(f"--expiration {text!r} is in the past", EXIT_USAGE)
    return parsed


# -- commands ---------------------------------------------------------------------------------------------


def _list(args: argparse.Namespace) -> int:
    async def work(admin: Admin) -> int:
        from identityserver.storage.sqlalchemy.stores import SqlClientStore

        listed = sorted(await SqlClientStore(admin.database).get_all_clients(), key=lambda c: c.client_id)
        rows = [
            (
                c.client_id,
                c.client_name,
                "yes" if c.enabled else "no",
                " ".join(c.allowed_grant_types),
                " ".join(c.allowed_scopes),
                len(c.client_secrets),
            )
            for c in listed
        ]
        summary = [
            {
                "client_id": c.client_id,
                "client_name": c.client_name,
                "enabled": c.enabled,
                "allowed_grant_types": c.allowed_grant_types,
                "allowed_scopes": c.allowed_scopes,
                "require_client_secret": c.require_client_secret,
                "secrets": len(c.client_secrets),
            }
            for c in listed
        ]
        lines = [*table(rows, ("CLIENT", "NAME", "ENABLED", "GRANTS", "SCOPES", "SECRETS")), f"{len(rows)} client(s)"]
        admin.output.emit({"clients": summary}, lines)
        return 0

    return run(args, work)


def _show(args: argparse.Namespace) -> int:
    async def work(admin: Admin) -> int:
        client = await load_client(admin, args.client_id)
        document = describe_client(client)
        lines = [
            f"{key}: {'-' if value is None else value}" for key, value in document.items() if key != "client_secrets"
        ]
        lines.append("client_secrets:")
        lines += [
            f"  [{s['index']}] {s['type']}  {s['description'] or '-'}  expires {s['expiration'] or 'never'}"
            for s in document["client_secrets"]
        ] or ["  (none)"]
        admin.output.emit({"client": document}, lines)
        return 0

    return run(args, work)


def _client_from_flags(args: argparse.Namespace) -> tuple[Client, str | None]:
    if not args.grant:
        raise CommandError("clients add needs --grant (or --from-toml FILE)", EXIT_USAGE)
    client = Client(
        args.client_id,
        client_name=args.name,
        allowed_grant_types=parse_args_list(args.grant),
        allowed_scopes=parse_args_list(args.scope),
        redirect_uris=list(args.redirect_uri or []),
        post_logout_redirect_uris=list(args.post_logout_redirect_uri or []),
        require_client_secret=not args.public,
        allow_offline_access=args.offline_access,
        require_consent=args.require_consent,
    )
    if args.public:
        return client, None
    value, secret = new_secret("generated by identityserver clients add", None)
    client.client_secrets.append(secret)
    return client, value


def _clients_from_file(path: str) -> list[Client]:
    from identityserver.configuration.loader import load_configuration

    clients = load_configuration(path).clients  # ConfigError: the messages the server gives at start-up
    if not clients:
        raise CommandError(f"{path}: no [[clients]] entries", EXIT_USAGE)
    return clients


def _add(args: argparse.Namespace) -> int:
    flags = (args.client_id, args.grant, args.scope, args.redirect_uri, args.post_logout_redirect_uri, args.name)
    if args.from_toml and (any(flags) or args.public or args.offline_access or args.require_consent):
        return run_usage_error("use either CLIENT_ID with flags or --from-toml FILE, not both")
    if not args.from_toml and not (args.client_id or "").strip():
        return run_usage_error("clients add needs CLIENT_ID (or --from-toml FILE)")

    async def work(admin: Admin) -> int:
        secret: str | None = None
        if args.from_toml:
            clients = _clients_from_file(args.from_toml)
        else:
            client, secret = _client_from_flags(args)
            clients = [client]
        for client in clients:
            check_client(client, admin)
        from identityserver.storage.sqlalchemy import administration

        try:
            await administration.add_clients(admin.database, clients, admin.clock.utc_now(), overwrite=args.replace)
        except administration.AlreadyExistsError as exc:
            raise CommandError(f"{exc} (use --replace to overwrite it)") from exc
        ids = [c.client_id for c in clients]
        await announce_client_change(admin, ids)
        lines = [f"identityserver: added client {i}" for i in ids]
        document: dict[str, Any] = {"added": ids}
        if secret is not None:
            document["secret"] = secret
            lines += [f"client secret (shown once, store it now): {secret}"]
        admin.output.emit(document, lines)
        return 0

    return run(args, work)


def _remove(args: argparse.Namespace) -> int:
    async def work(admin: Admin) -> int:
        from identityserver.storage.sqlalchemy import administration

        try:
            await administration.remove_client(admin.database, args.client_id)
        except administration.NotFoundError as exc:
            raise CommandError(str(exc)) from exc
        await announce_client_change(admin, [args.client_id])
        admin.output.emit({"removed": args.client_id}, [f"identityserver: removed client {args.client_id}"])
        return 0

    return run(args, work)


def _secret_add(args: argparse.Namespace) -> int:
    async def work(admin: Admin) -> int:
        value, secret = new_secret(args.description, parse_expiration(args.expiration, admin.clock.utc_now()))
        count = await change_client(admin, args.client_id, lambda c: _append(c, secret))
        await announce_client_change(admin, [args.client_id])
        admin.output.emit(
            {"client_id": args.client_id, "index": count, "secret": value, **describe_secret(count, secret)},
            [
                f"identityserver: added secret [{count}] to client {args.client_id}",
                f"client secret (shown once, store it now): {value}",
            ],
        )
        return 0

    return run(args, work)


def _append(client: Client, secret: Secret) -> int:
    client.client_secrets.append(secret)
    return len(client.client_secrets)


def _secret_remove(args: argparse.Namespace) -> int:
    if (args.index is None) == (args.description is None):
        return run_usage_error("clients secrets remove needs exactly one of --index N or --description TEXT")

    def remove(client: Client) -> list[dict[str, Any]]:
        numbered = list(enumerate(client.client_secrets, 1))
        if args.index is not None:
            chosen = [(i, s) for i, s in numbered if i == args.index]
            if not chosen:
                raise CommandError(f"client {client.client_id!r} has no secret [{args.index}]")
        else:
            chosen = [(i, s) for i, s in numbered if s.description == args.description]
            if not chosen:
                raise CommandError(f"client {client.client_id!r} has no secret described {args.description!r}")
        client.client_secrets = [s for i, s in numbered if i not in {i for i, _ in chosen}]
        return [describe_secret(i, s) for i, s in chosen]

    async def work(admin: Admin) -> int:
        removed = await change_client(admin, args.client_id, remove)
        await announce_client_change(admin, [args.client_id])
        lines = [
            f"identityserver: removed secret [{r['index']}] ({r['type']}, {r['description'] or 'no description'})"
            f" from client {args.client_id}"
            for r in removed
        ]
        admin.output.emit({"client_id": args.client_id, "removed": removed}, lines)
        return 0

    return run(args, work)


def _set_enabled(enabled: bool) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        async def work(admin: Admin) -> int:
            def change(client: Client) -> None:
                client.enabled = enabled

            await change_client(admin, args.client_id, change)
            await announce_client_change(admin, [args.client_id])
            state = "enabled" if enabled else "disabled"
            admin.output.emit(
                {"client_id": args.client_id, "enabled": enabled}, [f"identityserver: {state} client {args.client_id}"]
            )
            return 0

        return run(args, work)

    return command


def run_usage_error(message: str) -> int:
    from identityserver.cli.output import fail

    return fail(message, EXIT_USAGE)


def add_client_commands(commands: Any) -> None:
    clients = commands.add_parser("clients", help="list, show, add and remove clients and their secrets")
    sub = clients.add_subparsers(dest="clients_command", required=True)
    listing = sub.add_parser("list", help="every client in the database")
    listing.set_defaults(handler=_list)
    show = sub.add_parser("show", help="one client (secrets by type, description and expiration only)")
    show.add_argument("client_id")
    show.set_defaults(handler=_show)
    add = sub.add_parser("add", help="add a client from flags (a confidential one gets a generated secret)")
    add.add_argument("client_id", nargs="?")
    add.add_argument("--from-toml", metavar="FILE", help="add the [[clients]] entries of FILE (the config format)")
    add.add_argument("--grant", action="append", help="allowed grant type (repeat, or comma-separated)")
    add.add_argument("--scope", action="append", help="allowed scope (repeat, or comma-separated)")
    add.add_argument("--redirect-uri", action="append", help="redirect URI (repeat)")
    add.add_argument("--post-logout-redirect-uri", action="append", help="post-logout redirect URI (repeat)")
    add.add_argument("--name", help="display name (client_name)")
    add.add_argument("--public", action="store_true", help="a public client: no secret (require_client_secret false)")
    add.add_argument("--offline-access", action="store_true", help="allow refresh tokens (allow_offline_access)")
    add.add_argument("--require-consent", action="store_true", help="show the consent page")
    add.add_argument("--replace", action="store_true", help="overwrite a client with the same id")
    add.set_defaults(handler=_add)
    remove = sub.add_parser("remove", help="delete a client and its secrets, URIs and claims")
    remove.add_argument("client_id")
    remove.set_defaults(handler=_remove)
    disable = sub.add_parser("disable", help="refuse the client everywhere (enabled = false), keeping its settings")
    disable.add_argument("client_id")
    disable.set_defaults(handler=_set_enabled(False))
    enable = sub.add_parser("enable", help="serve a disabled client again")
    enable.add_argument("client_id")
    enable.set_defaults(handler=_set_enabled(True))
    for parser in (listing, show, add, remove, disable, enable):
        add_store_options(parser)

    secrets_parser = sub.add_parser("secrets", help="add or remove a client's shared secrets")
    secrets_sub = secrets_parser.add_subparsers(dest="secrets_command", required=True)
    secret_add = secrets_sub.add_parser("add", help="generate a secret, print it once, store only its hash")
    secret_add.add_argument("client_id")
    secret_add.add_argument("--description", help="shown by clients show; also selects it for removal")
    secret_add.add_argument("--expiration", help="90d (days from now) or an RFC 3339 date-time")
    secret_add.set_defaults(handler=_secret_add)
    secret_remove = secrets_sub.add_parser("remove", help="remove a secret by its index (clients show) or description")
    secret_remove.add_argument("client_id")
    secret_remove.add_argument("--index", type=int, help="the [N] clients show prints")
    secret_remove.add_argument("--description", help="every secret with exactly this description")
    secret_remove.set_defaults(handler=_secret_remove)
    for parser in (secret_add, secret_remove):
        add_store_options(parser)
