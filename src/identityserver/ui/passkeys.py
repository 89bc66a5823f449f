"""Passkey sign-in from the login page (docs/sign-in.md): ``POST /account/passkeys/options`` gives the WebAuthn
request options and a sealed ceremony state, ``POST /account/passkeys/sign-in`` verifies the assertion (WebAuthn
L2 §7.2) and signs the credential's user in. Both are same-origin form posts with the anti-forgery token that
answer JSON. The RP id is the issuer's host and the origin the issuer's origin (WebAuthn §5.1.4.1, §13.4.9)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from identityserver.events import UserLoginFailureEvent, UserLoginSuccessEvent
from identityserver.services.sign_in_protocols import PasskeyError, PasskeyService, passkey_amr
from identityserver.ui.account import AccountPages
from identityserver.ui.context import UiContext
from identityserver.ui.forms import field

PASSKEY_OPTIONS_PATH = "/account/passkeys/options"
PASSKEY_SIGN_IN_PATH = "/account/passkeys/sign-in"
MAX_RESPONSE = 64 * 1024


def relying_party(ui: UiContext, request: Request) -> tuple[str, str]:
    """(RP id, origin) of this issuer: its host name, and scheme://host[:port]."""
    parts = urlsplit(ui.base_url(request))
    return parts.hostname or "", f"{parts.scheme}://{parts.netloc}"


def refusal(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": "invalid_request", "error_description": message}, status_code=status)


class PasskeySignIn:
    def __init__(self, account: AccountPages, passkeys: PasskeyService) -> None:
        self.account = account
        self.ui = account.ui
        self.passkeys = passkeys

    async def _form(self, request: Request) -> FormData | Response:
        form = await self.ui.verified_form(request)
        if isinstance(form, FormData):
            return form
        return refusal("The page has expired. Reload it and try again.")

    async def options(self, request: Request) -> Response:
        form = await self._form(request)
        if not isinstance(form, FormData):
            return form
        rp_id, _ = relying_party(self.ui, request)
        ceremony = await self.passkeys.authentication_options(rp_id)
        return JSONResponse({"options": ceremony.options_json, "state": ceremony.state})

    async def sign_in(self, request: Request) -> Response:
        form = await self._form(request)
        if not isinstance(form, FormData):
            return form
        return_url = field(form, "returnUrl", 8000)
        context = await self.account._context(request, return_url)
        if context is not None and not context.client.enable_local_login:
            return refusal("This application does not accept sign-in with a local account.")
        rp_id, origin = relying_party(self.ui, request)
        address = request.client.host if request.client else "-"
        events = self.ui.services.events
        client_id = context.client.client_id if context else None
        users = self.ui.services.users
        try:
            credential = await self.passkeys.authenticate(
                field(form, "state", 4000), field(form, "response", MAX_RESPONSE), origin, rp_id
            )
            user = await users.find_by_subject_id(credential.subject_id) if users is not None else None
            if user is None or not user.is_active:
                raise PasskeyError("the account of this passkey cannot sign in")
        except PasskeyError as exc:
            failure = UserLoginFailureEvent(message=f"passkey: {exc}", username="", client_id=client_id, endpoint="UI")
            await events.raise_event(failure, address)
            return refusal(str(exc))
        cookies = await self.account._sign_in(
            request, user, passkey_amr(credential), self.ui.services.options.authentication.mfa_acr_value
        )
        success = UserLoginSuccessEvent(
            username=user.username,
            subject_id=user.subject_id,
            client_id=client_id,
            display_name=user.display_name(),
            endpoint="UI",
        )
        await events.raise_event(success, address)
        response = JSONResponse({"redirect": self.account._after_login_url(request, return_url)})
        for cookie in cookies:
            response.headers.append("set-cookie", cookie)
        return response
