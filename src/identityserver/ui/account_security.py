"""The signed-in user's security page, ``/account/security`` (docs/sign-in.md): register, rename and remove
passkeys (WebAuthn L2 §7.1, through ``static/passkeys.js``), and turn a TOTP second factor (RFC 6238) on with a QR
code and the manual key, verifying one code first, or off again with a current code. The ten recovery codes are
shown once, when the factor is turned on."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from identityserver.services.sign_in_protocols import MFA_AMR, PasskeyError, PasskeyService, TotpService
from identityserver.services.user_session import SessionTicket
from identityserver.ui.context import UiContext
from identityserver.ui.forms import field
from identityserver.ui.passkeys import MAX_RESPONSE, refusal, relying_party
from identityserver.ui.security import PASSKEY_CSP

SECURITY_PATH = "/account/security"
MFA_PATH = "/account/mfa"
PASSKEYS_PATH = "/account/passkeys"
PAGE_PATHS = (SECURITY_PATH, MFA_PATH, PASSKEYS_PATH)
"""One page under three names: the overview, and the two names tools rely on (interface-contract.md)."""
REGISTER_OPTIONS_PATH = "/account/passkeys/register/options"
REGISTER_PATH = "/account/passkeys/register"
SECOND_FACTOR_FIRST = "Sign in again with your second factor or a passkey to add a passkey."


class SecurityPage:
    def __init__(self, ui: UiContext, passkeys: PasskeyService, totp: TotpService) -> None:
        self.ui = ui
        self.passkeys = passkeys
        self.totp = totp

    @staticmethod
    def _page_path(request: Request) -> str:
        path: str = request.scope.get("path", SECURITY_PATH)
        return path if path in PAGE_PATHS else SECURITY_PATH

    async def _signed_in(self, request: Request) -> SessionTicket | Response:
        user = await self.ui.user(request)
        if user is not None:
            return user
        login = self.ui.path(request, self.ui.services.options.user_interaction.login_url)
        return self.ui.redirect(f"{login}?{urlencode({'returnUrl': self.ui.path(request, self._page_path(request))})}")

    async def handle(self, request: Request) -> Response:
        user = await self._signed_in(request)
        if not isinstance(user, SessionTicket):
            return user
        if request.method == "GET":
            return await self._page(request, user)
        form = await self.ui.verified_form(request)
        if not isinstance(form, FormData):
            return form
        action = field(form, "button", 40)
        subject = user.subject_id
        address = request.client.host if request.client else "-"
        if action == "rename":
            await self.passkeys.rename(subject, field(form, "credential_id", 1400), field(form, "name", 100))
        elif action == "remove":
            await self.passkeys.remove(subject, field(form, "credential_id", 1400))
        elif action == "totp_begin":
            try:
                await self.totp.begin_enrolment(subject)
            except ValueError as exc:
                return await self._page(request, user, str(exc), 400)
        elif action == "verify":  # confirms the pending TOTP enrolment
            codes = await self.totp.confirm_enrolment(subject, field(form, "code", 40), address)
            if codes is None:
                return await self._page(request, user, "That code is not right. Try the current one.", 400)
            return await self._page(request, user, recovery_codes=codes)
        elif action == "totp_disable":
            check = await self.totp.verify(subject, field(form, "code", 40), address)
            if not check.ok:
                message = "Too many wrong codes. Wait a few minutes." if check.throttled else "That code is not right."
                return await self._page(request, user, message, 429 if check.throttled else 400)
            await self.totp.disable(subject)
        else:
            return await self._page(request, user, "Unknown action.", 400)
        return self.ui.redirect(self.ui.path(request, self._page_path(request)))

    async def _page(
        self,
        request: Request,
        user: SessionTicket,
        error: str | None = None,
        status: int = 200,
        recovery_codes: list[str] | None = None,
    ) -> Response:
        enrolment = await self.totp.enrolment(user.subject_id)
        pending = await self.totp.pending_secret(user.subject_id)
        qr_svg = manual_key = None
        if pending is not None:
            issuer = urlsplit_host(self.ui.base_url(request))
            uri = self.totp.provisioning_uri(pending, user.display_name or user.subject_id, issuer)
            import segno  # only when a user enrols an authenticator app

            qr_svg = segno.make(uri, error="m").svg_inline(scale=4, title="TOTP QR code")
            manual_key = " ".join(pending[i : i + 4] for i in range(0, len(pending), 4))
        return await self.ui.render(
            request,
            "account_security.html",
            status,
            headers={"content-security-policy": PASSKEY_CSP},
            user=user,
            passkeys=await self.passkeys.credentials(user.subject_id),
            totp_enabled=bool(enrolment and enrolment.enabled),
            recovery_left=len(enrolment.recovery_codes) if enrolment and enrolment.enabled else 0,
            qr_svg=qr_svg,
            manual_key=manual_key,
            totp_secret=pending,
            page_path=self._page_path(request),
            recovery_codes=recovery_codes,
            error=error,
        )

    async def _may_add_passkey(self, user: SessionTicket) -> bool:
        """A passkey signs in with ``amr`` ``mfa``, so once the account has a second factor (TOTP, or a passkey)
        only a session that used one may add another: else a password (or an upstream sign-in) alone would mint
        a multiple-factor credential (RFC 8176 §2). The first passkey of an account without one is its bootstrap."""
        if MFA_AMR in user.amr:
            return True
        enrolment = await self.totp.enrolment(user.subject_id)
        if enrolment is not None and enrolment.enabled:
            return False
        return not await self.passkeys.credentials(user.subject_id)

    async def registration_options(self, request: Request) -> Response:
        user = await self.ui.user(request)
        form = await self.ui.verified_form(request)
        if user is None or not isinstance(form, FormData):
            return refusal("Sign in again and reload the page.", 401 if user is None else 400)
        if not await self._may_add_passkey(user):
            return refusal(SECOND_FACTOR_FIRST, 403)
        rp_id, _ = relying_party(self.ui, request)
        users = self.ui.services.users
        account = await users.find_by_subject_id(user.subject_id) if users is not None else None
        username = account.username if account is not None else user.subject_id
        ceremony = await self.passkeys.registration_options(
            user.subject_id, username, user.display_name or username, rp_id, urlsplit_host(self.ui.base_url(request))
        )
        return JSONResponse({"options": ceremony.options_json, "state": ceremony.state})

    async def register(self, request: Request) -> Response:
        user = await self.ui.user(request)
        form = await self.ui.verified_form(request)
        if user is None or not isinstance(form, FormData):
            return refusal("Sign in again and reload the page.", 401 if user is None else 400)
        if not await self._may_add_passkey(user):
            return refusal(SECOND_FACTOR_FIRST, 403)
        rp_id, origin = relying_party(self.ui, request)
        try:
            credential = await self.passkeys.register(
                user.subject_id,
                field(form, "state", 4000),
                field(form, "response", MAX_RESPONSE),
                origin,
                rp_id,
                field(form, "name", 100),
            )
        except PasskeyError as exc:
            return refusal(str(exc))
        return JSONResponse({"credential_id": credential.credential_id, "name": credential.name})


def urlsplit_host(url: str) -> str:
    """The issuer's host: the account name's issuer in authenticator apps and the WebAuthn RP name."""
    return urlsplit(url).hostname or "identityserver"
