"""``identityserver grants list | revoke``: a user's or a client's persisted grants (Duende
``IPersistedGrantService``). Listing never shows handles or payloads; revoking removes what Duende's
``RemoveAllGrantsAsync`` removes (codes, refresh and reference tokens, consents, CIBA requests) and, as this
server does when it revokes a refresh-token family, puts the JWT access tokens issued with the removed refresh
tokens on the revocation list that introspection and userinfo consult."""

from __future__ import annotations

import argparse
from typing import Any

from identityserver.cli.admin import Admin, add_store_options, run
from identityserver.cli.output import EXIT_USAGE, CommandError, table
from identityserver.constants import PersistedGrantTypes
from identityserver.models.grants import PersistedGrant, PersistedGrantFilter

#: What a user or client holds (Duende's types); this server's own markers (used refresh tokens, revoked
#: families) are bookkeeping that must outlive a revocation.
USER_GRANT_TYPES = [
    PersistedGrantTypes.AUTHORIZATION_CODE,
    PersistedGrantTypes.REFRESH_TOKEN,
    PersistedGrantTypes.REFERENCE_TOKEN,
    PersistedGrantTypes.USER_CONSENT,
    PersistedGrantTypes.BACKCHANNEL_AUTHENTICATION_REQUEST,
]


def _filter(args: argparse.Namespace) -> PersistedGrantFilter:
    if not args.subject and not args.client:
        raise CommandError("name the grants: --subject S, --client C or both", EXIT_USAGE)
    return PersistedGrantFilter(subject_id=args.subject, client_id=args.client, types=USER_GRANT_TYPES)


def describe_grant(grant: PersistedGrant) -> dict[str, Any]:
    return {
        "type": grant.type,
        "client_id": grant.client_id,
        "subject_id": grant.subject_id,
        "session_id": grant.session_id,
        "description": grant.description,
        "created": grant.creation_time.isoformat(),
        "expires": grant.expiration.isoformat() if grant.expiration else None,
        "consumed": grant.consumed_time.isoformat() if grant.consumed_time else None,
    }


def _list(args: argparse.Namespace) -> int:
    async def work(admin: Admin) -> int:
        from identityserver.storage.sqlalchemy.stores import SqlPersistedGrantStore

        grants = [describe_grant(g) for g in await SqlPersistedGrantStore(admin.database).get_all(_filter(args))]
        rows = [
            (g["type"], g["client_id"], g["subject_id"], g["session_id"], g["created"], g["expires"] or "never")
            for g in grants
        ]
        lines = [*table(rows, ("TYPE", "CLIENT", "SUBJECT", "SESSION", "CREATED", "EXPIRES")), f"{len(rows)} grant(s)"]
        admin.output.emit({"grants": grants}, lines)
        return 0

    return run(args, work)


def _revoke(args: argparse.Namespace) -> int:
    async def work(admin: Admin) -> int:
        from identityserver.services.grant_revocation import DefaultGrantRevocationService, jti_of

        services = admin.require_services()
        grant_filter = _filter(args)
        found = await services.persisted_grants.get_all(grant_filter)
        revocation = DefaultGrantRevocationService(
            services.persisted_grants, services.refresh_tokens.store, services.clock
        )
        access_tokens = 0
        for grant in found:
            if grant.type != PersistedGrantTypes.REFRESH_TOKEN:
                continue
            try:
                token = await services.refresh_tokens.store.deserialize(grant.data)
            except ValueError:
                continue  # unreadable: deleting it is all that can be done
            access = token.access_tokens.get("")
            access_tokens += len(token.earlier_access_tokens) + (1 if access and jti_of(access) else 0)
            await revocation.revoke_access_tokens(token)
        await services.persisted_grants.remove_all(grant_filter)
        counts: dict[str, int] = {}
        for grant in found:
            counts[grant.type] = counts.get(grant.type, 0) + 1
        who = " and ".join(
            part
            for part in (args.subject and f"subject {args.subject}", args.client and f"client {args.client}")
            if part
        )
        summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "nothing"
        lines = [f"identityserver: revoked {len(found)} grant(s) of {who}: {summary}"]
        if access_tokens:
            lines.append(f"  and {access_tokens} JWT access token(s) issued with the removed refresh tokens")
        admin.output.emit(
            {
                "revoked": len(found),
                "by_type": counts,
                "access_tokens_revoked": access_tokens,
                "subject_id": args.subject,
                "client_id": args.client,
            },
            lines,
        )
        return 0

    return run(args, work, with_services=True)


def add_grant_commands(commands: Any) -> None:
    grants = commands.add_parser("grants", help="list or revoke persisted grants of a user or client")
    sub = grants.add_subparsers(dest="grants_command", required=True)
    listing = sub.add_parser("list", help="grants by subject and/or client (never handles or payloads)")
    listing.add_argument("--subject", help="the user's subject id")
    listing.add_argument("--client", help="the client id")
    listing.set_defaults(handler=_list)
    revoke = sub.add_parser("revoke", help="remove a user's or a client's grants (tokens, codes, consents)")
    revoke.add_argument("--subject", help="the user's subject id")
    revoke.add_argument("--client", help="this client's grants (with --subject: only those of that user)")
    revoke.set_defaults(handler=_revoke)
    for parser in (listing, revoke):
        add_store_options(parser)
