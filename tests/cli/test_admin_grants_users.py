"""``identityserver grants list | revoke`` and ``users add | set-password | remove``: users created from the
command line sign in, their grants are listed without handles or payloads, and revoking them stops their
refresh tokens and JWT access tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from identityserver.models.grants import PersistedGrant
from tests.cli.admin_support import as_json, backends, identityserver, migrated_database, ok, server

SCOPES = """
[[api_scopes]]
name = "api1"
"""


async def password_tokens(http, client: tuple[str, str], username: str, password: str):
    return await http.post(
        "/connect/token",
        auth=client,
        data={
            "grant_type": "password",
            "username": username,
            "password": password,
            "scope": "openid api1 offline_access",
        },
    )


@pytest.mark.parametrize("backend", backends())
async def test_grants_of_a_user_are_listed_and_revoked(backend, tmp_path):
    scopes = tmp_path / "scopes.toml"
    scopes.write_text(SCOPES)
    with migrated_database(backend, tmp_path) as url:
        db = ("--database-url", url)
        ok("config", "import", str(scopes), *db)
        user = as_json(
            "users", "add", "alice", "--password-stdin", "--claim", "name=Alice Smith", *db, stdin="alice-pw\n"
        )
        subject = user["subject_id"]
        secrets = {}
        for client_id in ("ro", "other"):
            secrets[client_id] = as_json(
                "clients", "add", client_id, "--grant", "password", "--scope", "openid,api1", "--offline-access", *db
            )["secret"]
        async with server(url, tmp_path) as (http, services):
            issued = {}
            for client_id in ("ro", "other"):
                response = await password_tokens(http, (client_id, secrets[client_id]), "alice", "alice-pw")
                assert response.status_code == 200, response.text
                issued[client_id] = response.json()
            now = datetime.now(UTC)
            await services.persisted_grants.store(
                PersistedGrant(
                    "consent-key",
                    "user_consent",
                    "ro",
                    now,
                    '{"scopes": ["api1"]}',
                    subject_id=subject,
                    expiration=now + timedelta(days=1),
                )
            )

        listed = ok("grants", "list", "--subject", subject, *db)
        assert issued["ro"]["refresh_token"] not in listed.stdout and "consent-key" not in listed.stdout
        grants = as_json("grants", "list", "--subject", subject, *db)["grants"]
        assert sorted((g["type"], g["client_id"]) for g in grants) == [
            ("refresh_token", "other"),
            ("refresh_token", "ro"),
            ("user_consent", "ro"),
        ]
        assert all(
            set(g) == {"type", "client_id", "subject_id", "session_id", "description", "created", "expires", "consumed"}
            for g in grants
        )
        assert [g["type"] for g in as_json("grants", "list", "--client", "other", *db)["grants"]] == ["refresh_token"]

        revoked = as_json("grants", "revoke", "--subject", subject, "--client", "ro", *db)
        assert revoked["revoked"] == 2 and revoked["by_type"] == {"refresh_token": 1, "user_consent": 1}
        assert revoked["access_tokens_revoked"] == 1
        remaining = as_json("grants", "list", "--subject", subject, *db)["grants"]
        assert [(g["type"], g["client_id"]) for g in remaining] == [("refresh_token", "other")]

        async with server(url, tmp_path) as (http, _):
            refreshed = await http.post(
                "/connect/token",
                auth=("ro", secrets["ro"]),
                data={"grant_type": "refresh_token", "refresh_token": issued["ro"]["refresh_token"]},
            )
            assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
            userinfo = await http.get(
                "/connect/userinfo", headers={"Authorization": f"Bearer {issued['ro']['access_token']}"}
            )
            assert userinfo.status_code == 401
            still = await http.post(
                "/connect/token",
                auth=("other", secrets["other"]),
                data={"grant_type": "refresh_token", "refresh_token": issued["other"]["refresh_token"]},
            )
            assert still.status_code == 200, still.text

        unnamed = identityserver("grants", "revoke", *db)
        assert unnamed.returncode == 2 and "--subject" in unnamed.stderr and "--client" in unnamed.stderr
        assert len(as_json("grants", "list", "--client", "other", *db)["grants"]) == 1

        # a client's grants of every user at once (a compromised or retired client)
        by_client = as_json("grants", "revoke", "--client", "other", *db)
        assert by_client["revoked"] == 1 and by_client["by_type"] == {"refresh_token": 1}
        assert by_client["subject_id"] is None and by_client["client_id"] == "other"
        assert as_json("grants", "list", "--client", "other", *db)["grants"] == []
        async with server(url, tmp_path) as (http, _):
            refused = await http.post(
                "/connect/token",
                auth=("other", secrets["other"]),
                data={"grant_type": "refresh_token", "refresh_token": still.json()["refresh_token"]},
            )
            assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("backend", backends())
async def test_users_are_added_get_a_new_password_and_are_removed(backend, tmp_path):
    with migrated_database(backend, tmp_path) as url:
        db = ("--database-url", url)
        added = as_json(
            "users",
            "add",
            "carol",
            "--password-stdin",
            "--claim",
            "email=carol@example.com",
            "--subject-id",
            "carol-1",
            *db,
            stdin="first-pw\n",
        )
        assert added == {
            "username": "carol",
            "subject_id": "carol-1",
            "claims": [{"type": "email", "value": "carol@example.com"}],
        }
        taken = identityserver("users", "add", "CAROL", "--password-stdin", *db, stdin="x\n")
        assert taken.returncode == 1 and "exists already" in taken.stderr
        no_stdin = identityserver("users", "add", "dave", *db, stdin="")
        assert no_stdin.returncode == 2 and "--password-stdin" in no_stdin.stderr
        empty = identityserver("users", "add", "dave", "--password-stdin", *db, stdin="\n")
        assert empty.returncode == 2 and "empty" in empty.stderr
        bad_claim = identityserver("users", "add", "dave", "--password-stdin", "--claim", "novalue", *db, stdin="p\n")
        assert bad_claim.returncode == 2 and "name=value" in bad_claim.stderr

        async with server(url, tmp_path) as (_, services):
            assert services.users is not None
            stored = await services.users.find_by_username("carol")
            assert stored is not None and stored.password_hash.startswith("$argon2")
            assert "first-pw" not in stored.password_hash
            assert await services.users.validate_credentials("carol", "first-pw") is not None
            assert await services.users.find_by_username("dave") is None

        ok("users", "set-password", "carol", "--password-stdin", *db, stdin="second-pw\n")
        unknown = identityserver("users", "set-password", "nobody", "--password-stdin", *db, stdin="pw\n")
        assert unknown.returncode == 1 and "no user 'nobody'" in unknown.stderr
        async with server(url, tmp_path) as (_, services):
            assert services.users is not None
            assert await services.users.validate_credentials("carol", "first-pw") is None
            assert await services.users.validate_credentials("carol", "second-pw") is not None

        assert as_json("users", "remove", "carol", *db) == {"removed": "carol", "subject_id": "carol-1"}
        again = identityserver("users", "remove", "carol", *db)
        assert again.returncode == 1 and "no user 'carol'" in again.stderr
        async with server(url, tmp_path) as (_, services):
            assert services.users is not None and await services.users.find_by_username("carol") is None
