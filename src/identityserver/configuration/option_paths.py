"""File paths in ``[options]`` are relative to the configuration file that names them, as ``state_path`` is, so
that a file works whatever the working directory of the process that loads it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from identityserver.options import IdentityServerOptions


def _resolved(folder: Path, path: str | None) -> str | None:
    return str((folder / path).resolve()) if path and not Path(path).is_absolute() else path


def resolve_option_paths(options: IdentityServerOptions, folder: Path) -> IdentityServerOptions:
    """``options`` with relative paths resolved against ``folder``: the key-encryption key file, the theme."""
    protection = options.data_protection
    kek_file = _resolved(folder, protection.key_encryption_key_file)
    return dataclasses.replace(
        options,
        data_protection=dataclasses.replace(protection, key_encryption_key_file=kek_file),
        ui=dataclasses.replace(options.ui, theme_path=_resolved(folder, options.ui.theme_path)),
    )
