"""``identityserver keys list | rotate | retire``: the signing keys of the configured ``SigningKeyStore``, judged
and changed by the configured ``DefaultKeyManager`` (its lifecycle rules, its cross-process lock), so that the
command and every running server agree. New subcommands register in :func:`add_key_commands`."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from identityserver.cli.admin import Admin, add_store_options, confirm, run
from identityserver.cli.output import EXIT_USAGE, CommandError, table
from identityserver.models.keys import KeyContainer, SerializedKey
from identityserver.services.key_management.key_manager import DefaultKeyManager, SigningKeysUnreadable

STATES = ("signing", "announced", "expired", "retired", "unreadable")


def key_manager(admin: Admin) -> DefaultKeyManager:
    manager = admin.require_services().key_manager
    if not isinstance(manager, DefaultKeyManager):
        raise CommandError(f"the configured key manager ({type(manager).__name__}) is not a DefaultKeyManager")
    return manager


async def _readable(manager: DefaultKeyManager, stored: SerializedKey) -> KeyContainer | None:
    from identityserver.services.key_management.serializer import deserialize_key

    try:
        return await deserialize_key(stored, manager.protector)
    except Exception:  # another key ring, or damaged data: the servers skip it the same way
        return None


async def describe_keys(manager: DefaultKeyManager, now: datetime) -> list[dict[str, Any]]:
    """Every stored key with its state under the manager's rules: ``signing`` (the key each algorithm signs
    with now), ``announced`` (published in JWKS, not signing yet), ``expired`` (past its rotation interval,
    still published for the retention time), ``retired`` (no longer published; deleted on the next refresh
    when ``delete_retired_keys``), ``unreadable`` (not readable with this key ring: ignored by servers)."""
    stored_keys = await manager.store.load_keys()
    readable = {s.id: await _readable(manager, s) for s in stored_keys}
    live = [k for k in readable.values() if k is not None and not manager.is_retired(k, now)]
    signing = {
        key.id
        for alg in manager.options.signing_algorithms
        if (key := manager.get_current_signing_key(live, alg, now)) is not None
    }
    described = []
    for stored in stored_keys:
        key = readable[stored.id]
        if key is None:
            state = "unreadable"
        elif manager.is_retired(key, now):
            state = "retired"
        elif key.id in signing:
            state = "signing"
        elif manager.is_expired(key, now):
            state = "expired"
        else:
            state = "announced"
        described.append(
            {
                "id": stored.id,
                "algorithm": stored.algorithm,
                "created": stored.created.isoformat(),
                "state": state,
                "expires": (stored.created + manager.rotation).isoformat(),
                "retires": (stored.created + manager.rotation + manager.retention).isoformat(),
            }
        )
    return described


def _list(args: argparse.Namespace) -> int:
    async def work(admin: Admin) -> int:
        manager = key_manager(admin)
        keys = await describe_keys(manager, manager.clock.utc_now())
        rows = [(k["id"], k["algorithm"], k["created"], k["state"], k["expires"], k["retires"]) for k in keys]
        lines = [
            *table(rows, ("KID", "ALG", "CREATED", "STATE", "STOPS SIGNING", "LEAVES JWKS")),
            f"{len(keys)} key(s)",
        ]
        admin.output.emit({"keys": keys}, lines)
        return 0

    return run(args, work, with_services=True)


def _rotate(args: argparse.Namespace) -> int:
    async def work(admin: Admin) -> int:
        manager = key_manager(admin)
        configured = manager.options.signing_algorithms
        algorithms = args.algorithm or list(configured)
        for alg in algorithms:
            if alg not in configured:
                raise CommandError(
                    f"--algorithm {alg}: not in [options.key_management] signing_algorithms ({', '.join(configured)})",
                    EXIT_USAGE,
                )
        now = manager.clock.utc_now()
        created: list[dict[str, Any]] = []
        async with manager.store.lock():  # the lock the manager itself takes before it creates a key
            live = [k for k in await manager.get_keys_from_store(now) if not manager.is_retired(k, now)]
            for alg in algorithms:  # every algorithm first: refuse before any key is made
                try:  # a key the servers cannot read would never be published by them (security.md F6)
                    manager.check_readable(alg, live, now)
                except SigningKeysUnreadable as refusal:
                    raise CommandError(f"keys rotate --algorithm {alg}: {refusal}") from None
            for alg in algorithms:
                current = manager.get_current_signing_key(live, alg, now)
                key = await manager.create_and_store_new_key(alg, now)
                # the oldest usable key signs: the new one takes over once it is announced long enough and
                # the current one has expired (or was retired with `keys retire`)
                signs_from = (
                    now if current is None else max(now + manager.propagation, current.created + manager.rotation)
                )
                created.append(
                    {
                        "id": key.id,
                        "algorithm": alg,
                        "created": key.created.isoformat(),
                        "state": "announced",
                        "replaces": current.id if current else None,
                        "signs_from": signs_from.isoformat(),
                        "announced_until": (now + manager.propagation).isoformat(),
                    }
                )
        lines = []
        for k in created:
            lines.append(f"identityserver: created {k['algorithm']} key {k['id']} (published in JWKS now)")
            if k["replaces"]:
                lines.append(
                    f"  it signs from {k['signs_from']}, when key {k['replaces']} expires; to switch sooner, "
                    f"run `identityserver keys retire {k['replaces']} --yes` after {k['announced_until']}"
                )
        admin.output.emit({"created": created}, lines)
        return 0

    return run(args, work, with_services=True)


def _retire(args: argparse.Namespace) -> int:
    async def work(admin: Admin) -> int:
        manager = key_manager(admin)
        now = manager.clock.utc_now()
        described = {k["id"]: k for k in await describe_keys(manager, now)}
        key = described.get(args.kid)
        if key is None:
            raise CommandError(f"no signing key {args.kid!r} (see `identityserver keys list`)")
        question = (
            f"retire {key['algorithm']} key {args.kid} ({key['state']})? It leaves JWKS: tokens signed with it "
            "stop validating"
        )
        if not args.yes and not confirm(question):
            raise CommandError(f"{question}; add --yes to confirm", EXIT_USAGE)
        async with manager.store.lock():
            await manager.store.delete_key(args.kid)
        # what a server does on its next refresh: a new key at once when no usable key is left
        manager.invalidate_cache()
        current = await manager.get_current_keys()
        signing = [{"id": k.id, "algorithm": k.algorithm} for k in current]
        lines = [f"identityserver: retired key {args.kid}"]
        lines += [f"  {k['algorithm']} now signs with key {k['id']}" for k in signing]
        options = manager.options
        cached = min(options.key_cache_duration, options.propagation_time // 2)
        lines.append(f"  running servers stop using it when their key cache expires (within {cached} s)")
        admin.output.emit({"retired": args.kid, "signing": signing}, lines)
        return 0

    return run(args, work, with_services=True)


def add_key_commands(commands: Any) -> Any:
    """Register ``keys`` and return its subparsers, for further ``keys`` subcommands."""
    keys = commands.add_parser("keys", help="list, rotate and retire signing keys")
    sub = keys.add_subparsers(dest="keys_command", required=True)
    listing = sub.add_parser("list", help="every stored signing key with its state")
    listing.set_defaults(handler=_list)
    rotate = sub.add_parser("rotate", help="create a new signing key now (announced before it signs)")
    rotate.add_argument("--algorithm", action="append", help="only this algorithm (default: every configured one)")
    rotate.set_defaults(handler=_rotate)
    retire = sub.add_parser("retire", help="remove a key from signing and from JWKS")
    retire.add_argument("kid")
    retire.add_argument("--yes", action="store_true", help="confirm without asking")
    retire.set_defaults(handler=_retire)
    for parser in (listing, rotate, retire):
        add_store_options(parser)
    return sub
