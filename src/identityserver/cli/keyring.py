"""``identityserver keyring rewrap``: store every master key of the data-protection key ring wrapped under the
current key-encryption key (KEK): keys written in clear before a KEK was configured, and keys wrapped under an
old KEK (``--old-key-encryption-key-file``) when rotating it. Works on the ring the server uses: the folder of
``[options.data_protection] key_ring_path`` when set, else the database of ``--config`` / ``--database-url``.

A separate group from ``keys`` (signing keys) because the two are different key sets with different stores."""

from __future__ import annotations

import argparse

from identityserver.cli import admin
from identityserver.cli.output import EXIT_USAGE, CommandError


def add_keyring_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keyring = commands.add_parser("keyring", help="the data-protection key ring")
    actions = keyring.add_subparsers(dest="keyring_command", required=True)
    rewrap = actions.add_parser(
        "rewrap",
        help="wrap every master key under the current key-encryption key",
        description="Wrap clear master keys, and keys wrapped under an old key-encryption key, under the current "
        "one ([options.data_protection] key_encryption_key_env / key_encryption_key_file, or the options below).",
    )
    admin.add_store_options(rewrap)
    rewrap.add_argument("--key-encryption-key-file", help="the current key-encryption key (wins over --config)")
    rewrap.add_argument("--key-encryption-key-env", help="environment variable holding the current key-encryption key")
    rewrap.add_argument(
        "--old-key-encryption-key-file",
        action="append",
        default=[],
        help="a previous key-encryption key whose keys are re-wrapped under the current one (repeatable)",
    )
    rewrap.add_argument(
        "--old-key-encryption-key-env",
        action="append",
        default=[],
        help="environment variable holding a previous key-encryption key (repeatable)",
    )
    rewrap.set_defaults(handler=_rewrap)


def _rewrap(args: argparse.Namespace) -> int:
    from identityserver.crypto.key_encryption import KeyEncryptionError, KeyEncryptionKey, load_key_encryption_key
    from identityserver.services.data_protection import rewrap_key_ring
    from identityserver.stores.protocols import DataProtectionKeyStore

    async def work(state: admin.Admin) -> int:
        settings = state.config.options.data_protection
        try:
            if args.key_encryption_key_file or args.key_encryption_key_env:
                current = load_key_encryption_key(args.key_encryption_key_env, args.key_encryption_key_file)
            else:
                current = load_key_encryption_key(settings.key_encryption_key_env, settings.key_encryption_key_file)
            if current is None:
                raise CommandError(
                    "no key-encryption key: set [options.data_protection] key_encryption_key_env or "
                    "key_encryption_key_file, or pass --key-encryption-key-file",
                    EXIT_USAGE,
                )
            old = [KeyEncryptionKey.from_file(path) for path in args.old_key_encryption_key_file]
            old += [KeyEncryptionKey.from_env(name) for name in args.old_key_encryption_key_env]
            store: DataProtectionKeyStore
            if settings.key_ring_path:
                from identityserver.stores.file_system import FileSystemDataProtectionKeyStore

                store = FileSystemDataProtectionKeyStore(settings.key_ring_path)
            else:
                from identityserver.storage.sqlalchemy.stores import SqlDataProtectionKeyStore

                store = SqlDataProtectionKeyStore(state.database)
            result = await rewrap_key_ring(store, current, old)
        except KeyEncryptionError as exc:
            raise CommandError(f"{exc}; nothing was changed") from exc
        state.output.emit(
            {
                "key_encryption_key_id": current.id,
                "wrapped": result.wrapped,
                "rotated": result.rotated,
                "unchanged": result.unchanged,
            },
            [
                f"key-encryption key {current.id}: wrapped {result.wrapped} clear key(s), re-wrapped "
                f"{result.rotated} key(s) from an old key-encryption key, {result.unchanged} already wrapped"
            ],
        )
        return 0

    return admin.run(args, work)
