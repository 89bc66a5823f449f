"""File-system stores for the state folder: signing keys (Duende ``FileSystemKeyStore``) and an inter-process
lock so that several worker processes starting together create one key, not one each. Every file operation runs
in a worker thread, off the event loop: the state folder may sit on a slow or network disk."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import json
import logging
import os
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

from identityserver.models.keys import DataProtectionKey, SerializedKey

logger = logging.getLogger("identityserver.keys")
_KEY_FILE = re.compile(r"^is-signing-key-([0-9A-Fa-f]{1,64})\.json$")


def write_private_file(path: Path, content: str) -> None:
    """Write atomically (temp file + rename) with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _open_and_lock(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _release_abandoned(acquiring: asyncio.Future[int]) -> None:
    if not acquiring.cancelled() and acquiring.exception() is None:
        os.close(acquiring.result())  # closing the last descriptor releases the lock


@contextlib.asynccontextmanager
async def file_lock(path: Path) -> AsyncIterator[None]:
    """An exclusive advisory lock on ``path`` shared by every process on this machine."""
    # flock blocks while another process holds the lock
    acquiring = asyncio.ensure_future(asyncio.to_thread(_open_and_lock, path))
    try:
        fd = await asyncio.shield(acquiring)
    except asyncio.CancelledError:
        # the thread cannot be interrupted: let it take the lock, then give the lock straight back
        acquiring.add_done_callback(_release_abandoned)
        raise
    try:
        yield
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


class FileSystemSigningKeyStore:
    """Keys as ``is-signing-key-{kid}.json`` files in IdentityServer's ``SerializedKey`` JSON shape."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    async def load_keys(self) -> list[SerializedKey]:
        return await asyncio.to_thread(self._read_keys)

    def _read_keys(self) -> list[SerializedKey]:
        if not self.directory.is_dir():
            return []
        keys: list[SerializedKey] = []
        for entry in sorted(self.directory.iterdir()):
            if not _KEY_FILE.match(entry.name):
                continue
            try:
                data = json.loads(entry.read_text(encoding="utf-8"))
                keys.append(
                    SerializedKey(
                        id=str(data["Id"]),
                        version=int(data["Version"]),
                        created=datetime.fromisoformat(str(data["Created"])),
                        algorithm=str(data["Algorithm"]),
                        is_x509_certificate=bool(data.get("IsX509Certificate", False)),
                        data=str(data["Data"]),
                        data_protected=bool(data.get("DataProtected", False)),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                # an unreadable file is skipped, as IdentityServer skips undecryptable keys (security.md item 148)
                logger.error("skipping unreadable signing key file %s: %s", entry.name, type(exc).__name__)
                continue
        return keys

    async def store_key(self, key: SerializedKey) -> None:
        document = {
            "Version": key.version,
            "Id": key.id,
            "Created": key.created.isoformat(),
            "Algorithm": key.algorithm,
            "IsX509Certificate": key.is_x509_certificate,
            "Data": key.data,
            "DataProtected": key.data_protected,
        }
        path = self.directory / f"is-signing-key-{key.id}.json"
        await asyncio.to_thread(write_private_file, path, json.dumps(document))

    async def delete_key(self, key_id: str) -> None:
        if not re.fullmatch(r"[0-9A-Fa-f]{1,64}", key_id):
            return
        await asyncio.to_thread((self.directory / f"is-signing-key-{key_id}.json").unlink, missing_ok=True)

    def lock(self) -> contextlib.AbstractAsyncContextManager[None]:
        return file_lock(self.directory / ".lock")


class FileSystemDataProtectionKeyStore:
    """The key ring as ``key-{id}.json`` files (mode 0600) in one folder."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    async def load_keys(self) -> list[DataProtectionKey]:
        return await asyncio.to_thread(self._read_keys)

    def _read_keys(self) -> list[DataProtectionKey]:
        if not self.directory.is_dir():
            return []
        keys: list[DataProtectionKey] = []
        for entry in sorted(self.directory.glob("key-*.json")):
            try:
                data = json.loads(entry.read_text(encoding="utf-8"))
                keys.append(
                    DataProtectionKey(
                        id=str(data["id"]),
                        created=datetime.fromisoformat(data["created"]),
                        activation=datetime.fromisoformat(data["activation"]),
                        expiration=datetime.fromisoformat(data["expiration"]),
                        material=base64.b64decode(data["material"], validate=True),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                logger.error("skipping unreadable data-protection key file %s: %s", entry.name, type(exc).__name__)
                continue
        return keys

    async def store_key(self, key: DataProtectionKey) -> None:
        document = {
            "id": key.id,
            "created": key.created.isoformat(),
            "activation": key.activation.isoformat(),
            "expiration": key.expiration.isoformat(),
            "material": base64.b64encode(key.material).decode("ascii"),
        }
        await asyncio.to_thread(write_private_file, self.directory / f"key-{key.id}.json", json.dumps(document))

    def lock(self) -> contextlib.AbstractAsyncContextManager[None]:
        return file_lock(self.directory / ".lock")
