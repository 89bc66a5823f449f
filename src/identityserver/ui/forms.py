"""Form helpers for the UI: anti-forgery tokens (double submit, sealed by the data-protection key ring) and
field reading (RFC 6749 §10.12, RFC 9700 §4.7)."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qsl

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from identityserver.crypto.protection import DataProtectionError, DataProtector

ANTIFORGERY_COOKIE = "idsrv.af"
SECURE_ANTIFORGERY_COOKIE = "__Host-idsrv.af"
"""Over https: the ``__Host-`` prefix makes browsers refuse the cookie unless it is ``Secure``, host-only and
``Path=/``, so a sibling subdomain cannot plant one (RFC 6265bis §4.1.3.2)."""
ANTIFORGERY_FIELD = "__RequestVerificationToken"
_COOKIE, _TOKEN = b"cookie:", b"token:"


class Antiforgery:
    """The cookie carries a random secret sealed by the server (issue 16 item 7: a value the browser or a
    sibling site chose is refused, not adopted); the form carries the same secret sealed for another use."""

    def __init__(self, protector: DataProtector) -> None:
        self.protector = protector

    @staticmethod
    def cookie_name(secure: bool) -> str:
        return SECURE_ANTIFORGERY_COOKIE if secure else ANTIFORGERY_COOKIE

    async def _secret(self, request: Request, secure: bool) -> bytes | None:
        sealed = request.cookies.get(self.cookie_name(secure))
        if not sealed or len(sealed) > 1000:
            return None
        try:
            value = await self.protector.unprotect(sealed)
        except DataProtectionError:
            return None
        return value[len(_COOKIE) :] if value.startswith(_COOKIE) and len(value) == len(_COOKIE) + 32 else None

    async def cookie_value(self, request: Request, secure: bool) -> tuple[bytes, str | None]:
        """The browser's anti-forgery secret, and the ``Set-Cookie`` value when it is new (none yet, or the
        cookie was not one this server issued)."""
        existing = await self._secret(request, secure)
        if existing is not None:
            return existing, None
        secret = secrets.token_bytes(32)
        sealed = await self.protector.protect(_COOKIE + secret)
        return secret, f"{self.cookie_name(secure)}={sealed}; Path=/; HttpOnly; SameSite=Strict" + (
            "; Secure" if secure else ""
        )

    async def token_for(self, secret: bytes) -> str:
        return await self.protector.protect(_TOKEN + secret)

    async def validate(self, request: Request, form: FormData, secure: bool) -> bool:
        secret = await self._secret(request, secure)
        token = form.get(ANTIFORGERY_FIELD)
        if secret is None or not isinstance(token, str) or len(token) > 1000:
            return False
        try:
            expected = await self.protector.unprotect(token)
        except DataProtectionError:
            return False
        return hmac.compare_digest(expected, _TOKEN + secret)


def field(form: FormData, name: str, max_length: int = 1000) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return value[:max_length]


MAX_FIELDS = 1000
"""Starlette's own limit for ``Request.form()``."""


async def read_form(request: Request) -> FormData:
    """A page's posted fields, in order, repeated names kept, read without ``python-multipart``: Starlette's
    ``Request.form()`` needs it, and Starlette imports it with itself, in every worker, whenever it is installed
    (issue 15: RSS per worker). The pages post ``application/x-www-form-urlencoded`` only; a body of another
    type, or one that is not UTF-8, reads as an empty form and so fails the anti-forgery check (400).
    ``SecurityHeadersMiddleware`` has bounded the body before this reads it."""
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return FormData()
    try:
        text = (await request.body()).decode("utf-8")
        pairs: list[tuple[str, str | UploadFile]] = list(
            parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
        )
    except ValueError:  # not UTF-8 (UnicodeDecodeError), or more than MAX_FIELDS fields
        return FormData()
    return FormData(pairs)
