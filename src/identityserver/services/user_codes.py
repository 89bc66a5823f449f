"""User codes of the device flow (RFC 8628 §6.1; Duende ``NumericUserCodeGenerator``, ``DefaultUserCodeService``).

A code is stored in its normalized form (no spaces or dashes, upper case), so that what the user types on the
verification page is forgiven those differences (RFC 8628 §3.3)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import Protocol

logger = logging.getLogger("identityserver.device_flow")

NUMERIC = "numeric"
BASE20 = "base20"
#: RFC 8628 §6.1: consonants only, so that no word is spelt and no letter is mistaken for a digit.
BASE20_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"


def normalize_user_code(value: str) -> str:
    """The stored form of a typed code: without whitespace and dashes, upper case."""
    return "".join(ch for ch in value if not ch.isspace() and ch != "-").upper()


class UserCodeGenerator(Protocol):
    """Creates user codes of one type (Duende ``IUserCodeGenerator``)."""

    user_code_type: str
    retry_limit: int

    def generate(self) -> str:
        """A new code as shown to the user."""
        ...


class NumericUserCodeGenerator:
    """IdentityServer's default: 9 digits (about 29.9 bits; RFC 8628 §6.1 asks for rate limiting with it)."""

    user_code_type = NUMERIC
    retry_limit = 5

    def generate(self) -> str:
        return str(100_000_000 + secrets.randbelow(900_000_000))


class Base20UserCodeGenerator:
    """8 letters of the RFC 8628 §6.1 base-20 alphabet (34.5 bits), shown as ``WDJB-MJHT``."""

    user_code_type = BASE20
    retry_limit = 5

    def generate(self) -> str:
        letters = "".join(secrets.choice(BASE20_ALPHABET) for _ in range(8))
        return f"{letters[:4]}-{letters[4:]}"


class DefaultUserCodeService:
    """Picks the generator of a client's ``user_code_type`` (Duende ``DefaultUserCodeService``); an unknown type
    falls back to the default type, with a warning, rather than failing the request."""

    def __init__(self, default_type: str, generators: Sequence[UserCodeGenerator] = ()) -> None:
        self.default_type = default_type.lower()
        built_in: list[UserCodeGenerator] = [NumericUserCodeGenerator(), Base20UserCodeGenerator()]
        self.generators = {g.user_code_type.lower(): g for g in built_in}
        self.generators.update({g.user_code_type.lower(): g for g in generators})

    def get_generator(self, user_code_type: str | None) -> UserCodeGenerator:
        wanted = (user_code_type or self.default_type).lower()
        found = self.generators.get(wanted)
        if found is None:
            logger.warning("no user code generator for %r; using %r", wanted, self.default_type)
            found = self.generators.get(self.default_type, self.generators[NUMERIC])
        return found
