"""Form helpers for the UI: anti-forgery tokens (double submit, sealed by the data-protection key ring) and
field reading (RFC 6749 §10.12, RFC 9700 §4.7)."""

from __future__ import annotations

import hmac
import secrets

from starlette.datastructures import FormData
from starlette.requests import Request

from identityserver.crypto.protection import DataProtectionError, DataProtector

ANTIFORGERY_COOKIE = "idsrv.af"
ANTIFORGERY_FIELD = "__RequestVerificationToken"


class Antiforgery:
    def __init__(self, protector: DataProtector) -> None:
        self.protector = protector

    def cookie_value(self, request: Request) -> tuple[str, bool]:
        """The browser's anti-forgery secret and whether it is new (and must be set)."""
        existing = request.cookies.get(ANTIFORGERY_COOKIE)
        if existing and len(existing) == 64:
            return existing, False
        return secrets.token_hex(32), True

    async def token_for(self, secret: str) -> str:
        return await self.protector.protect(secret.encode("ascii"))

    async def validate(self, request: Request, form: FormData) -> bool:
        secret = request.cookies.get(ANTIFORGERY_COOKIE)
        token = form.get(ANTIFORGERY_FIELD)
        if not secret or not isinstance(token, str) or len(token) > 1000:
            return False
        try:
            expected = await self.protector.unprotect(token)
        except DataProtectionError:
            return False
        return hmac.compare_digest(expected, secret.encode("ascii"))

    @staticmethod
    def set_cookie_header(secret: str, secure: bool) -> str:
        return f"{ANTIFORGERY_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")


def field(form: FormData, name: str, max_length: int = 1000) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return value[:max_length]
