"""SQL ``PasskeyStore`` and ``TotpStore`` over ``IdentityServerUserPasskeys`` and ``IdentityServerUserTotp``
(migration 0005). Counter and step updates are conditional ``UPDATE``s, so concurrent uses across processes
cannot both succeed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, delete, select, update
from sqlalchemy.exc import IntegrityError

from identityserver.models.sign_in_methods import PasskeyCredential, TotpEnrolment
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.operational import user_passkeys as p
from identityserver.storage.sqlalchemy.entities.operational import user_totp as t
from identityserver.storage.sqlalchemy.stores.common import upsert


def _passkey_row(c: PasskeyCredential) -> dict[str, Any]:
    return {
        "CredentialId": c.credential_id,
        "SubjectId": c.subject_id,
        "UserHandle": c.user_handle,
        "PublicKey": c.public_key,
        "SignCount": c.sign_count,
        "Transports": " ".join(c.transports) or None,
        "BackupEligible": c.backup_eligible,
        "BackedUp": c.backed_up,
        "Aaguid": c.aaguid,
        "Name": c.name,
        "Created": c.created,
        "LastUsed": c.last_used,
    }


def _passkey(row: RowMapping) -> PasskeyCredential:
    return PasskeyCredential(
        credential_id=row["CredentialId"],
        subject_id=row["SubjectId"],
        user_handle=row["UserHandle"],
        public_key=row["PublicKey"],
        sign_count=int(row["SignCount"]),
        name=row["Name"],
        created=row["Created"],
        transports=(row["Transports"] or "").split(),
        backup_eligible=bool(row["BackupEligible"]),
        backed_up=bool(row["BackedUp"]),
        aaguid=row["Aaguid"],
        last_used=row["LastUsed"],
    )


class SqlPasskeyStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def add(self, credential: PasskeyCredential) -> bool:
        try:
            async with self.database.write() as conn:
                await conn.execute(p.insert().values(**_passkey_row(credential)))
        except IntegrityError:
            return False
        return True

    async def find(self, credential_id: str) -> PasskeyCredential | None:
        async with self.database.read() as conn:
            row = (await conn.execute(select(p).where(p.c.CredentialId == credential_id))).mappings().first()
        return _passkey(row) if row is not None else None

    async def find_by_subject(self, subject_id: str) -> list[PasskeyCredential]:
        stmt = select(p).where(p.c.SubjectId == subject_id).order_by(p.c.Created, p.c.CredentialId)
        async with self.database.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_passkey(row) for row in rows]

    async def record_use(self, credential_id: str, sign_count: int, backed_up: bool, used: datetime) -> bool:
        grows = p.c.SignCount < sign_count if sign_count else p.c.SignCount == 0
        stmt = (
            update(p)
            .where(p.c.CredentialId == credential_id, grows)
            .values(SignCount=sign_count, BackedUp=backed_up, LastUsed=used)
        )
        async with self.database.write() as conn:
            return (await conn.execute(stmt)).rowcount == 1

    async def rename(self, subject_id: str, credential_id: str, name: str) -> bool:
        stmt = update(p).where(p.c.CredentialId == credential_id, p.c.SubjectId == subject_id).values(Name=name)
        async with self.database.write() as conn:
            return (await conn.execute(stmt)).rowcount == 1

    async def remove(self, subject_id: str, credential_id: str) -> bool:
        stmt = delete(p).where(p.c.CredentialId == credential_id, p.c.SubjectId == subject_id)
        async with self.database.write() as conn:
            return (await conn.execute(stmt)).rowcount == 1


def _enrolment(row: RowMapping) -> TotpEnrolment:
    return TotpEnrolment(
        subject_id=row["SubjectId"],
        secret=row["Secret"],
        created=row["Created"],
        enabled=bool(row["Enabled"]),
        last_used_step=None if row["LastUsedStep"] is None else int(row["LastUsedStep"]),
        recovery_codes=list(json.loads(row["RecoveryCodes"] or "[]")),
    )


class SqlTotpStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def get(self, subject_id: str) -> TotpEnrolment | None:
        async with self.database.read() as conn:
            row = (await conn.execute(select(t).where(t.c.SubjectId == subject_id))).mappings().first()
        return _enrolment(row) if row is not None else None

    async def save(self, enrolment: TotpEnrolment) -> None:
        values = {
            "SubjectId": enrolment.subject_id,
            "Secret": enrolment.secret,
            "Enabled": enrolment.enabled,
            "LastUsedStep": enrolment.last_used_step,
            "RecoveryCodes": json.dumps(enrolment.recovery_codes),
            "Created": enrolment.created,
        }
        async with self.database.write() as conn:
            await conn.execute(upsert(self.database.dialect, t, values, ["SubjectId"]))

    async def remove(self, subject_id: str) -> None:
        async with self.database.write() as conn:
            await conn.execute(delete(t).where(t.c.SubjectId == subject_id))

    async def use_step(self, subject_id: str, step: int) -> bool:
        later = (t.c.LastUsedStep.is_(None)) | (t.c.LastUsedStep < step)
        stmt = update(t).where(t.c.SubjectId == subject_id, later).values(LastUsedStep=step)
        async with self.database.write() as conn:
            return (await conn.execute(stmt)).rowcount == 1

    async def use_recovery_code(self, subject_id: str, code_hash: str) -> bool:
        # optimistic: the update applies only to the list that was read, so two uses of one code cannot both win
        for _ in range(5):
            current = await self.get(subject_id)
            if current is None or code_hash not in current.recovery_codes:
                return False
            remaining = [h for h in current.recovery_codes if h != code_hash]
            stmt = (
                update(t)
                .where(t.c.SubjectId == subject_id, t.c.RecoveryCodes == json.dumps(current.recovery_codes))
                .values(RecoveryCodes=json.dumps(remaining))
            )
            async with self.database.write() as conn:
                if (await conn.execute(stmt)).rowcount == 1:
                    return True
        return False
