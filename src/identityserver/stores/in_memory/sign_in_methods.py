"""In-memory ``PasskeyStore`` and ``TotpStore`` (one process; ``storage`` has the SQL ones). Every method runs
without awaiting in between, so each check-and-update is atomic on the event loop."""

from __future__ import annotations

import copy
from datetime import datetime

from identityserver.models.sign_in_methods import PasskeyCredential, TotpEnrolment


class InMemoryPasskeyStore:
    def __init__(self) -> None:
        self._credentials: dict[str, PasskeyCredential] = {}

    async def add(self, credential: PasskeyCredential) -> bool:
        if credential.credential_id in self._credentials:
            return False
        self._credentials[credential.credential_id] = copy.deepcopy(credential)
        return True

    async def find(self, credential_id: str) -> PasskeyCredential | None:
        found = self._credentials.get(credential_id)
        return copy.deepcopy(found) if found is not None else None

    async def find_by_subject(self, subject_id: str) -> list[PasskeyCredential]:
        mine = [copy.deepcopy(c) for c in self._credentials.values() if c.subject_id == subject_id]
        return sorted(mine, key=lambda c: (c.created, c.credential_id))

    async def record_use(self, credential_id: str, sign_count: int, backed_up: bool, used: datetime) -> bool:
        found = self._credentials.get(credential_id)
        if found is None or (sign_count <= found.sign_count and (sign_count or found.sign_count)):
            return False
        found.sign_count, found.backed_up, found.last_used = sign_count, backed_up, used
        return True

    async def rename(self, subject_id: str, credential_id: str, name: str) -> bool:
        found = self._credentials.get(credential_id)
        if found is None or found.subject_id != subject_id:
            return False
        found.name = name
        return True

    async def remove(self, subject_id: str, credential_id: str) -> bool:
        found = self._credentials.get(credential_id)
        if found is None or found.subject_id != subject_id:
            return False
        del self._credentials[credential_id]
        return True


class InMemoryTotpStore:
    def __init__(self) -> None:
        self._enrolments: dict[str, TotpEnrolment] = {}

    async def get(self, subject_id: str) -> TotpEnrolment | None:
        found = self._enrolments.get(subject_id)
        return copy.deepcopy(found) if found is not None else None

    async def save(self, enrolment: TotpEnrolment) -> None:
        self._enrolments[enrolment.subject_id] = copy.deepcopy(enrolment)

    async def remove(self, subject_id: str) -> None:
        self._enrolments.pop(subject_id, None)

    async def use_step(self, subject_id: str, step: int) -> bool:
        found = self._enrolments.get(subject_id)
        if found is None or (found.last_used_step is not None and step <= found.last_used_step):
            return False
        found.last_used_step = step
        return True

    async def use_recovery_code(self, subject_id: str, code_hash: str) -> bool:
        found = self._enrolments.get(subject_id)
        if found is None or code_hash not in found.recovery_codes:
            return False
        found.recovery_codes.remove(code_hash)
        return True
