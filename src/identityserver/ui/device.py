"""The device verification page (RFC 8628 §3.3; Duende host ``Pages/Device``): the signed-in user types the
code shown on the device, sees the client and the scopes it asks for, and approves or denies.

``verification_uri_complete`` only pre-fills the code: approval always takes the user's click on a page that
showed that code's client and scopes (the ``confirmed`` field names the code shown; RFC 8628 §5.4). Wrong codes
count against the client address and the session (RFC 8628 §5.1)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from identityserver.constants import UiPaths
from identityserver.services.device_flow_protocols import (
    DeviceFlowAuthorizationRequest,
    DeviceFlowInteractionService,
    UserCodeThrottle,
)
from identityserver.services.user_codes import normalize_user_code
from identityserver.services.user_session import SessionTicket
from identityserver.ui.consent import resource_views
from identityserver.ui.context import UiContext
from identityserver.ui.forms import field

TEMPLATE = "device.html"
WRONG_CODE = "That code is invalid or has expired. Check the code on your device and try again."
TOO_MANY = "Too many wrong codes. Wait a few minutes and try again."


def device_path(ui: UiContext) -> str:
    """The page's route: ``device_verification_url`` when it is a local path (an absolute URL points elsewhere)."""
    url = ui.services.options.user_interaction.device_verification_url
    return url if url.startswith("/") else UiPaths.DEVICE


class DevicePage:
    def __init__(self, ui: UiContext, interaction: DeviceFlowInteractionService, throttle: UserCodeThrottle) -> None:
        self.ui = ui
        self.interaction = interaction
        self.throttle = throttle
        self.max_length = ui.services.options.input_length_restrictions.user_code
        self.parameter = ui.services.options.user_interaction.device_verification_user_code_parameter
        self.locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}
        """Lookups in progress per address and per session (see :meth:`_one_at_a_time`)."""

    async def handle(self, request: Request) -> Response:
        user = await self.ui.user(request)
        if request.method == "GET":
            user_code = request.query_params.get(self.parameter, "")[: self.max_length]
            if user is None:
                return self._login(request, user_code)
            if not user_code:
                return await self._render(request, user_code="")
            return await self._show(request, user, user_code)
        form = await self.ui.verified_form(request)
        if not isinstance(form, FormData):
            return form
        user_code = field(form, "user_code", self.max_length)
        if user is None:
            return self._login(request, user_code)
        context = await self._lookup(request, user, user_code)
        if not isinstance(context, DeviceFlowAuthorizationRequest):
            return context
        views = resource_views(context.validated_resources.resources)
        if field(form, "confirmed", self.max_length) != normalize_user_code(user_code):
            # the user has not yet seen this code's client and scopes: show them, never approve (RFC 8628 §5.4)
            return await self._confirm(request, context, views)
        subject, session_id = user.principal(), user.session_id
        if field(form, "button") != "yes":
            await self.interaction.handle_request(user_code, None, subject, session_id)
            return await self._render(request, done="denied", context=context)
        requested = {str(v["name"]) for v in views}
        chosen = [s for s in form.getlist("scopes_consented") if isinstance(s, str) and s in requested]
        chosen += [str(v["name"]) for v in views if v["required"] and v["name"] not in chosen]
        if not chosen:
            return await self._confirm(request, context, views, "Select at least one permission.", 400)
        result = await self.interaction.handle_request(user_code, chosen, subject, session_id)
        if result.is_error:
            return await self._render(request, 400, user_code=user_code, error=WRONG_CODE)
        return await self._render(request, done="approved", context=context)

    async def _show(self, request: Request, user: SessionTicket, user_code: str) -> Response:
        context = await self._lookup(request, user, user_code)
        if not isinstance(context, DeviceFlowAuthorizationRequest):
            return context
        return await self._confirm(request, context, resource_views(context.validated_resources.resources))

    async def _lookup(
        self, request: Request, user: SessionTicket, user_code: str
    ) -> DeviceFlowAuthorizationRequest | Response:
        """The pending request of the code, or the page with the error (throttled per address and session)."""
        address = request.client.host if request.client else "-"
        async with self._one_at_a_time(f"addr:{address}"), self._one_at_a_time(f"sid:{user.session_id}"):
            if await self.throttle.blocked(address, user.session_id):
                return await self._render(request, 429, user_code=user_code, error=TOO_MANY)
            context = await self.interaction.get_authorization_context(user_code) if user_code.strip() else None
            if context is None:
                await self.throttle.failed(address, user.session_id)
        if context is None:
            return await self._render(request, 400, user_code=user_code, error=WRONG_CODE)
        return context

    @asynccontextmanager
    async def _one_at_a_time(self, key: str) -> AsyncIterator[None]:
        """Check, look up and count one code at a time per address and per session: parallel guesses would
        otherwise all pass the check before the first failure is counted (RFC 8628 §5.1). Per process; the
        address lock is always taken before the session lock."""
        lock, users = self.locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self.locks[key]

    async def _confirm(
        self,
        request: Request,
        context: DeviceFlowAuthorizationRequest,
        views: list[dict[str, object]],
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        return await self._render(
            request,
            status,
            context=context,
            scopes=views,
            user_code=context.user_code,
            confirmed=normalize_user_code(context.user_code),
            checked={v["name"] for v in views},
            error=error,
        )

    async def _render(self, request: Request, status: int = 200, **values: Any) -> Response:
        return await self.ui.render(request, TEMPLATE, status, device_path=device_path(self.ui), **values)

    def _login(self, request: Request, user_code: str) -> Response:
        here = self.ui.path(request, request.url.path)
        if user_code:
            here += "?" + urlencode({self.parameter: user_code})
        login = self.ui.path(request, self.ui.services.options.user_interaction.login_url)
        return self.ui.redirect(f"{login}?{urlencode({'returnUrl': here})}")
