"""Random handles for codes, refresh tokens and reference tokens (Duende ``DefaultHandleGenerationService``)."""

from __future__ import annotations

import secrets

from identityserver.clock import Clock
from identityserver.crypto.hashing import ISSUE_TIME_DIGITS, TIME_ORDERED_SUFFIX


class DefaultHandleGenerationService:
    """32 random bytes (256 bits, RFC 6749 §10.10) as upper-case hex.

    Time-ordered (the default): led by the issue time in milliseconds (``ISSUE_TIME_DIGITS`` hex digits) and ending
    ``-2``, so that ``hashed_grant_key`` puts new keys at the end of the ``Key`` index. The time adds nothing to a
    guess and takes nothing from the 256 random bits. Otherwise IdentityServer's own form: the random digits and
    ``-1``, which an IdentityServer (.NET) sharing the database can also look up."""

    def __init__(self, clock: Clock, time_ordered: bool = True) -> None:
        self.clock = clock
        self.time_ordered = time_ordered

    def generate_handle(self) -> str:
        """A new random handle."""
        random_digits = secrets.token_hex(32).upper()
        if not self.time_ordered:
            return random_digits + "-1"
        issued = int(self.clock.timestamp() * 1000)
        return f"{issued:0{ISSUE_TIME_DIGITS}X}{random_digits}{TIME_ORDERED_SUFFIX}"
