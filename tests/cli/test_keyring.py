"""``identityserver keyring rewrap``: wraps the clear master keys of the data-protection key ring under the
configured key-encryption key and rotates KEKs, on the SQL ring (``--config`` / ``--database-url``) and on a
``key_ring_path`` folder; refuses a missing KEK or an unknown wrapping KEK, changing nothing, and never prints
key material."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from identityserver.cli import main
from identityserver.crypto.key_encryption import MAGIC, KeyEncryptionKey
from identityserver.services.data_protection import KeyRingDataProtectionProvider
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.stores import SqlDataProtectionKeyStore
from identityserver.stores.file_system import FileSystemDataProtectionKeyStore
from tests.support.clock import FakeClock


def rows(path: Path) -> list[bytes]:
    with sqlite3.connect(path) as conn:
        found = conn.execute('SELECT "Material" FROM "IdentityServerDataProtectionKeys" ORDER BY "Id"').fetchall()
    return [base64.b64decode(m) for (m,) in found]


def clear_ring(store) -> None:
    async def create() -> None:
        await KeyRingDataProtectionProvider(store, FakeClock(), "identityserver").initialize()

    asyncio.run(create())


def sqlite_with_a_clear_ring(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "ids.db"
    url = f"sqlite:///{path}"
    assert main(["db", "upgrade", "--database-url", url]) == 0

    async def create() -> None:
        database = Database(url)
        try:
            await KeyRingDataProtectionProvider(
                SqlDataProtectionKeyStore(database), FakeClock(), "identityserver"
            ).initialize()
        finally:
            await database.dispose()

    asyncio.run(create())
    return url, path


def write_kek(path: Path) -> str:
    text = KeyEncryptionKey.generate()
    path.write_text(text + "\n")
    return text


def test_rewrap_wraps_the_sql_ring_then_rotates_the_kek(tmp_path, capsys) -> None:
    url, db = sqlite_with_a_clear_ring(tmp_path)
    (clear,) = rows(db)
    first = write_kek(tmp_path / "kek")
    config = tmp_path / "c.toml"
    config.write_text(f'database_url = "{url}"\n[options.data_protection]\nkey_encryption_key_file = "kek"\n')
    capsys.readouterr()

    assert main(["keyring", "rewrap", "--config", str(config), "--json"]) == 0
    out = capsys.readouterr()
    document = json.loads(out.out)
    assert document["wrapped"] == 1
    assert document["key_encryption_key_id"] == KeyEncryptionKey.from_text(first, "x").id
    (wrapped,) = rows(db)
    assert wrapped.startswith(MAGIC)
    assert clear not in wrapped
    assert first not in out.out + out.err

    second = write_kek(tmp_path / "kek2")
    arguments = ["keyring", "rewrap", "--config", str(config), "--key-encryption-key-file", str(tmp_path / "kek2")]
    assert main(arguments) == 1  # the keys are wrapped under the first KEK, which was not given
    err = capsys.readouterr().err
    assert "neither the current one" in err
    assert "nothing was changed" in err
    assert rows(db) == [wrapped]

    assert main([*arguments, "--old-key-encryption-key-file", str(tmp_path / "kek")]) == 0
    out = capsys.readouterr()
    assert "re-wrapped 1 key(s) from an old key-encryption key" in out.out
    assert first not in out.out + out.err
    assert second not in out.out + out.err
    (rotated,) = rows(db)
    assert rotated[len(MAGIC) :][:8].hex() == KeyEncryptionKey.from_text(second, "x").id


def test_rewrap_without_a_kek_is_a_usage_error(tmp_path, capsys) -> None:
    url, db = sqlite_with_a_clear_ring(tmp_path)
    before = rows(db)
    capsys.readouterr()
    assert main(["keyring", "rewrap", "--database-url", url]) == 2
    assert "no key-encryption key" in capsys.readouterr().err
    assert main(["keyring", "rewrap", "--database-url", url, "--key-encryption-key-env", "NO_SUCH_KEK_VAR"]) == 1
    assert "NO_SUCH_KEK_VAR" in capsys.readouterr().err
    assert rows(db) == before


def test_rewrap_works_on_a_key_ring_folder(tmp_path, capsys) -> None:
    url, _ = sqlite_with_a_clear_ring(tmp_path)
    folder = tmp_path / "ring"
    clear_ring(FileSystemDataProtectionKeyStore(folder))
    write_kek(tmp_path / "kek")
    config = tmp_path / "c.toml"
    config.write_text(
        f'database_url = "{url}"\n[options.data_protection]\nkey_encryption_key_file = "kek"\n'
        f'key_ring_path = "{folder}"\n'
    )
    capsys.readouterr()
    assert main(["keyring", "rewrap", "--config", str(config), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["wrapped"] == 1
    (path,) = folder.glob("key-*.json")
    assert base64.b64decode(json.loads(path.read_text())["material"]).startswith(MAGIC)


def test_rewrap_as_a_process(tmp_path) -> None:
    url, db = sqlite_with_a_clear_ring(tmp_path)
    text = write_kek(tmp_path / "kek")
    completed = subprocess.run(
        [sys.executable, "-m", "identityserver", "keyring", "rewrap", "--database-url", url,
         "--key-encryption-key-env", "THE_KEK"],
        capture_output=True, text=True, check=False, timeout=120,
        env={"THE_KEK": text, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "wrapped 1 clear key(s)" in completed.stdout
    assert text not in completed.stdout + completed.stderr
    assert all(m.startswith(MAGIC) for m in rows(db))


def test_serve_stops_before_starting_when_the_kek_is_missing(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("MISSING_TEST_KEK", raising=False)
    config = tmp_path / "c.toml"
    config.write_text('[options.data_protection]\nkey_encryption_key_env = "MISSING_TEST_KEK"\n')
    assert main(["serve", "--config", str(config), "--state-path", str(tmp_path / "state")]) == 2
    out = capsys.readouterr()
    assert "the environment variable MISSING_TEST_KEK (the key-encryption key) is not set" in out.err
    assert "issuer" not in out.out
    assert not (tmp_path / "state").exists()
