"""Users of the built-in login (Duende ``TestUser``): a subject, a username, an argon2 password hash, claims."""

from __future__ import annotations

from dataclasses import dataclass, field

from identityserver.models.claims import Claim


@dataclass(slots=True)
class TestUser:
    __test__ = False  # not a pytest test class, whatever its name

    subject_id: str
    username: str
    password_hash: str
    claims: list[Claim] = field(default_factory=list)
    is_active: bool = True
    provider_name: str | None = None
    provider_subject_id: str | None = None

    def display_name(self) -> str:
        for claim in self.claims:
            if claim.type == "name":
                return claim.value
        return self.username
