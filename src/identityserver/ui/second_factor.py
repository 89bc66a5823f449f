"""The second step of a password sign-in (docs/sign-in.md): a user with TOTP on, or a request that needs a second
factor (``acr_values`` with ``[options.authentication] mfa_acr_value``, a client's ``require_mfa``), enters a
TOTP code (RFC 6238) or a recovery code before the session is created. Between the two steps the browser holds
only a short-lived sealed cookie naming the user; the session cookie is not issued until the code is right."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from identityserver.events import UserLoginFailureEvent, UserLoginSuccessEvent
from identityserver.models.messages import AuthorizationError, AuthorizationRequest
from identityserver.models.users import TestUser
from identityserver.services.sign_in_protocols import MFA_AMR, TotpCheck, TotpService, second_factor_required
from identityserver.ui.account import UNSATISFIABLE_ACR_VALUES, AccountPages
from identityserver.ui.forms import field
from identityserver.ui.sign_in_attempts import SECOND_FACTOR_FORM

PENDING_COOKIE = "idsrv.mfa"
PENDING_LIFETIME = 300
SECOND_FACTOR_PATH = "/account/login/two-factor"
_PURPOSE = "identityserver.second_factor.pending"
SECOND_FACTOR_AMR = ("pwd", "otp", MFA_AMR)
"""RFC 8176 §2: a password and a one-time code, together a multiple-factor sign-in."""


class SecondFactorPages:
    def __init__(self, account: AccountPages, totp: TotpService) -> None:
        self.account = account
        self.ui = account.ui
        self.totp = totp
        self.protector = self.ui.services.data_protection.create_protector(_PURPOSE)

    @property
    def mfa_acr_value(self) -> str:
        return self.ui.services.options.authentication.mfa_acr_value

    async def after_password(
        self, request: Request, user: TestUser, context: AuthorizationRequest | None, return_url: str
    ) -> Response | None:
        """After a correct password: the code page when the user has TOTP on, the ``unmet_authentication_requirements``
        answer when the request needs a second factor the user has not set up, else ``None`` (sign in now)."""
        unsatisfiable = UNSATISFIABLE_ACR_VALUES - {self.mfa_acr_value}
        if context is not None and unsatisfiable.intersection(context.acr_values):
            return None  # the login page answers unmet_authentication_requirements: no code would help
        enrolment = await self.totp.enrolment(user.subject_id)
        if enrolment is not None and enrolment.enabled:
            expires = int(self.ui.services.clock.timestamp()) + PENDING_LIFETIME
            sealed = await self.protector.protect(json.dumps({"sub": user.subject_id, "exp": expires}).encode())
            cookie = self._cookie(request, sealed, PENDING_LIFETIME)
            target = self.ui.path(request, SECOND_FACTOR_PATH) + "?" + urlencode({"returnUrl": return_url})
            return self.ui.redirect(target, [cookie])
        if context is not None and second_factor_required(context.client, context.acr_values, self.mfa_acr_value):
            return self.ui.redirect(
                await self.ui.services.interaction.deny_authorization(
                    context,
                    AuthorizationError.UNMET_AUTHENTICATION_REQUIREMENTS,
                    return_url,
                    await self.account._current_subject(request),
                    "the user has no second factor set up",
                )
            )
        return None

    def _cookie(self, request: Request, value: str, max_age: int) -> str:
        secure = self.ui.secure(request)
        return f"{PENDING_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax" + (
            "; Secure" if secure else ""
        )

    async def _pending_subject(self, request: Request) -> str | None:
        sealed = request.cookies.get(PENDING_COOKIE, "")
        if not sealed or len(sealed) > 2000:
            return None
        try:
            data = json.loads(await self.protector.unprotect(sealed))
        except ValueError:  # DataProtectionError is a ValueError, as is malformed JSON
            return None
        if not isinstance(data, dict) or int(data.get("exp", 0)) < self.ui.services.clock.timestamp():
            return None
        subject = data.get("sub")
        return subject if isinstance(subject, str) else None

    async def handle(self, request: Request) -> Response:
        return_url = request.query_params.get("returnUrl", "")
        subject = await self._pending_subject(request)
        if request.method == "GET":
            if subject is None:
                return await self._expired(request)
            return await self._page(request, return_url)
        form = await self.ui.verified_form(request)
        if not isinstance(form, FormData):
            return form
        return_url = field(form, "returnUrl", 8000)
        context = await self.account._context(request, return_url)
        clear = self._cookie(request, "", 0)
        if field(form, "button") != "verify":
            if context is not None:
                denied = await self.ui.services.interaction.deny_authorization(
                    context, AuthorizationError.ACCESS_DENIED, return_url, await self.account._current_subject(request)
                )
                return self.ui.redirect(denied, [clear])
            return self.ui.redirect(self.ui.path(request, "/"), [clear])
        attempt = await self.account.attempts.read(form, SECOND_FACTOR_FORM) if self.account.sign_in_once else None
        if subject is None and attempt is not None and await self._holds_session_of(request, attempt):
            # a second submission sent after the browser took the first's answer (its session, the pending
            # sign-in cleared): signed in already
            return self.ui.redirect(self.account._after_login_url(request, return_url), [clear])
        users = self.ui.services.users
        user = await users.find_by_subject_id(subject) if users is not None and subject is not None else None
        if user is None or not user.is_active:
            return await self._expired(request)
        address = request.client.host if request.client else "-"
        check = await self.totp.verify(user.subject_id, field(form, "code", 40), address)
        events = self.ui.services.events
        client_id = context.client.client_id if context else None
        if check.ok:
            amr = list(SECOND_FACTOR_AMR)
            cookies = await self.account._sign_in(request, user, amr, self.mfa_acr_value, attempt=attempt)
        else:
            joined = await self._join(request, user, check, attempt)
            if joined is None:
                failure = UserLoginFailureEvent(
                    message="invalid second factor", username=user.username, client_id=client_id, endpoint="UI"
                )
                await events.raise_event(failure, address)
                if check.throttled:
                    return await self._page(request, return_url, "Too many wrong codes. Wait a few minutes.", 429)
                return await self._page(request, return_url, "That code is not right, or was already used.", 400)
            cookies = joined
        success = UserLoginSuccessEvent(
            username=user.username,
            subject_id=user.subject_id,
            client_id=client_id,
            display_name=user.display_name(),
            endpoint="UI",
        )
        await events.raise_event(success, address)
        return self.ui.redirect(self.account._after_login_url(request, return_url), [*cookies, clear])

    async def _holds_session_of(self, request: Request, attempt: bytes) -> bool:
        """Whether the browser holds the session a submission of this form (``attempt``) opened."""
        ticket = await self.ui.user(request)
        return ticket is not None and self.account.attempts.opened(attempt, ticket, ticket.subject_id)

    async def _join(
        self, request: Request, user: TestUser, check: TotpCheck, attempt: bytes | None
    ) -> list[str] | None:
        """A double-submitted code page (security.md R9): the second submission's code is right but spent, by the
        first submission of the same form, which signed the user in. It answers with that session; ``None`` for
        any other refused code. A spent recovery code cannot be told from a wrong one: refused."""
        if not check.reused or attempt is None or not await self.account.attempts.claimed(attempt, user.subject_id):
            return None
        return await self.account._join(request, user, list(SECOND_FACTOR_AMR), self.mfa_acr_value, attempt)

    async def _page(self, request: Request, return_url: str, error: str | None = None, status: int = 200) -> Response:
        attempt = await self.account.attempts.new(SECOND_FACTOR_FORM) if self.account.sign_in_once else None
        return await self.ui.render(
            request, "two_factor.html", status, return_url=return_url, error=error, sign_in_attempt=attempt
        )

    async def _expired(self, request: Request) -> Response:
        return await self.ui.render(
            request,
            "error.html",
            400,
            error="login_expired",
            error_description="The sign-in has expired. Sign in again.",
        )
