"""Login and account creation pages (Duende host ``Pages/Account/Login``, ``Pages/Account/Create``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from identityserver._utils.urls import is_local_url
from identityserver.events import UserLoginFailureEvent, UserLoginSuccessEvent
from identityserver.models.claims import Claim
from identityserver.models.messages import AuthorizationError, AuthorizationRequest, LogoutMessage
from identityserver.models.users import TestUser
from identityserver.services.protocols import SupersedingUserSessionService
from identityserver.services.user_session import SessionTicket
from identityserver.stores.protocols import UserStore
from identityserver.ui.context import UiContext
from identityserver.ui.federation import direct_challenge, login_providers
from identityserver.ui.forms import field
from identityserver.ui.security import PASSKEY_CSP
from identityserver.ui.sign_in_attempts import CREATE_ACCOUNT_FORM, SignInAttempts

#: acr values the built-in password login cannot satisfy (no second factor): the request is answered with
#: ``unmet_authentication_requirements`` (OIDC Core §3.1.2.6 / RFC 9470 §3).
UNSATISFIABLE_ACR_VALUES = frozenset({"mfa", "urn:identityserver:acr:mfa", "phr", "phrh"})
USERNAME_TAKEN = "That username is taken."


#: What runs after a correct password and may answer instead of signing in now (the second factor, docs/sign-in.md).
AfterPassword = Callable[[Request, TestUser, AuthorizationRequest | None, str], Awaitable[Response | None]]


class AccountPages:
    def __init__(self, ui: UiContext) -> None:
        self.ui = ui
        self.throttle = ui.services.login_throttle
        self.after_password: AfterPassword | None = None
        self.passkeys_enabled = False
        services = ui.services
        self.attempts = SignInAttempts(services.messages, services.replay_cache, services.user_session)
        # a UserSessionService written before ``join`` existed signs in afresh on every submission, as it did
        self.sign_in_once = callable(getattr(services.user_session, "join", None))
        # and one without ``supersede``, keeping sessions in the cookie, opens a second session when a double-submitted
        # re-authentication's later submission arrives with the cookie the first ended (docs/sessions.md)
        self.superseding = (
            services.user_session if isinstance(services.user_session, SupersedingUserSessionService) else None
        )

    async def _context(self, request: Request, return_url: str) -> AuthorizationRequest | None:
        return await self.ui.services.interaction.get_authorization_context(return_url, self.ui.base_url(request))

    async def _current_subject(self, request: Request) -> str | None:
        """The user of the browser's existing session: the authorize callback binds a denial to that user."""
        ticket = await self.ui.user(request)
        return ticket.subject_id if ticket else None

    def _after_login_url(self, request: Request, return_url: str) -> str:
        if self.ui.services.interaction.is_valid_return_url(return_url) or is_local_url(return_url):
            return return_url
        return self.ui.path(request, "/")

    async def login(self, request: Request) -> Response:
        return_url = request.query_params.get("returnUrl", "")
        context = await self._context(request, return_url)
        if request.method == "GET":
            if (upstream := await direct_challenge(self.ui, request, context, return_url)) is not None:
                return self.ui.redirect(upstream)  # acr_values=idp:scheme, or the client's only provider
            return await self._login_page(request, return_url, context, context.login_hint if context else "")
        form = await self.ui.verified_form(request)
        if not isinstance(form, FormData):
            return form
        return_url = field(form, "returnUrl", 8000)
        context = await self._context(request, return_url)
        if field(form, "button") != "login":
            if context is not None:
                return self.ui.redirect(
                    await self.ui.services.interaction.deny_authorization(
                        context, AuthorizationError.ACCESS_DENIED, return_url, await self._current_subject(request)
                    )
                )
            return self.ui.redirect(self.ui.path(request, "/"))
        if context is not None and not context.client.enable_local_login:
            return await self._login_page(request, return_url, context, "", "Sign in with one of the providers.", 400)
        username, password = field(form, "username", 100), field(form, "password", 100)
        address = request.client.host if request.client else "-"
        users = self.ui.services.users
        if await self.throttle.blocked(username, address):
            return await self._login_page(
                request,
                return_url,
                context,
                username,
                "Too many failed attempts. Wait a few minutes and try again.",
                429,
            )
        user = await users.validate_credentials(username, password) if users else None
        events = self.ui.services.events
        if user is None:
            await self.throttle.failed(username, address)
            failure = UserLoginFailureEvent(
                message="invalid credentials",
                username=username,
                client_id=context.client.client_id if context else None,
                endpoint="UI",
            )
            await events.raise_event(failure, address)
            return await self._login_page(request, return_url, context, username, "Invalid username or password", 400)
        await self.throttle.succeeded(username, address)
        if self.after_password is not None:
            answer = await self.after_password(request, user, context, return_url)
            if answer is not None:
                return answer
        if context is not None and UNSATISFIABLE_ACR_VALUES.intersection(context.acr_values):
            return self.ui.redirect(
                await self.ui.services.interaction.deny_authorization(
                    context,
                    AuthorizationError.UNMET_AUTHENTICATION_REQUIREMENTS,
                    return_url,
                    await self._current_subject(request),  # the user is not signed in by this attempt
                    "the requested authentication context cannot be satisfied",
                )
            )
        attempt = await self.attempts.read(form) if self.sign_in_once else None
        cookies = await self._sign_in(request, user, attempt=attempt)
        success = UserLoginSuccessEvent(
            username=user.username,
            subject_id=user.subject_id,
            client_id=context.client.client_id if context else None,
            display_name=user.display_name(),
            endpoint="UI",
        )
        await events.raise_event(success, address)
        return self.ui.redirect(self._after_login_url(request, return_url), cookies)

    def _session_display_name(self, user: TestUser) -> str | None:
        """The value of the user's claim that ``user_display_name_claim_type`` names (Duende
        ``ServerSideSessionOptions.UserDisplayNameClaimType``; ``None`` when the user has none), else the user's
        name: what session queries and ``identityserver sessions`` show."""
        claim_type = self.ui.services.options.server_side_sessions.user_display_name_claim_type
        if not claim_type:
            return user.display_name()
        if claim_type == "sub":
            return user.subject_id
        return next((claim.value for claim in user.claims if claim.type == claim_type), None)

    async def _sign_in(
        self,
        request: Request,
        user: TestUser,
        amr: list[str] | None = None,
        acr: str | None = None,
        attempt: bytes | None = None,
    ) -> list[str]:
        """Sign ``user`` in; with the ``attempt`` of a submitted form, a second submission of it joins the session
        the first opened (security.md R9)."""
        session = self.ui.services.user_session
        previous = await self.ui.user(request)
        secure = self.ui.secure(request)
        if attempt is not None and previous is not None and self.attempts.opened(attempt, previous, user.subject_id):
            return []  # an earlier submission of this form signed this user in, in this browser: nothing to change
        if attempt is not None and previous is None and (replaced := await self._superseded(request, user, attempt)):
            # an earlier submission of this form re-authenticated the browser's session, ending the cookie this one
            # was sent with: the session it opened in that one's place, else (ended since) a fresh one
            joined = await self._join_session(request, user, amr, acr, attempt, replaced)
            if joined is not None:
                return joined
            return await session.sign_in(self._new_ticket(request, user, amr, acr, None)[0], secure)
        ticket, reauthentication = self._new_ticket(request, user, amr, acr, previous)
        if previous is not None and reauthentication:
            # drops the old row only; no hooks
            if attempt is not None and self.superseding is not None:
                await self.superseding.supersede(previous, self.attempts.ticket_id(attempt, user.subject_id))
            else:
                await session.sign_out(previous, secure)
        elif previous is not None:
            # another user signs in: the previous session ends (no leftover session whose coordinated tokens
            # would keep working, security.md item 44)
            await session.sign_out(previous, secure)
            await self.ui.services.logout.signed_out(
                LogoutMessage(
                    subject_id=previous.subject_id, session_id=previous.session_id, client_ids=list(previous.client_ids)
                ),
                self.ui.base_url(request),
            )
        if attempt is not None:
            return await self.attempts.sign_in(attempt, ticket, secure, keep_session_id=reauthentication)
        return await session.sign_in(ticket, secure)

    async def _join(
        self, request: Request, user: TestUser, amr: list[str], acr: str | None, attempt: bytes
    ) -> list[str] | None:
        """The session a correct submission of the same form (``attempt``, :meth:`SignInAttempts.claimed`) opened
        for ``user``, changing nothing else: that submission already ended the browser's previous session.
        ``None`` when that session is not open."""
        previous = await self.ui.user(request)
        if previous is not None and self.attempts.opened(attempt, previous, user.subject_id):
            return []
        if previous is None:  # the first re-authenticated the browser's session and ended this one's cookie?
            previous = await self._superseded(request, user, attempt)
        return await self._join_session(request, user, amr, acr, attempt, previous)

    async def _join_session(
        self,
        request: Request,
        user: TestUser,
        amr: list[str] | None,
        acr: str | None,
        attempt: bytes,
        previous: SessionTicket | None,
    ) -> list[str] | None:
        """:meth:`SignInAttempts.join` of the session the attempt's first submission opened for ``user``, which
        kept the ``sid`` and clients of ``previous`` when it re-authenticated that session."""
        ticket, reauthentication = self._new_ticket(request, user, amr, acr, previous)
        return await self.attempts.join(attempt, ticket, self.ui.secure(request), keep_session_id=reauthentication)

    async def _superseded(self, request: Request, user: TestUser, attempt: bytes) -> SessionTicket | None:
        """The browser's session of ``user`` that an earlier submission of this form (``attempt``) re-authenticated,
        ending the cookie that this submission was sent with (cookie sessions only)."""
        if self.superseding is None:
            return None
        ticket_id = self.attempts.ticket_id(attempt, user.subject_id)
        replaced = await self.superseding.superseded(dict(request.cookies), ticket_id)
        return replaced if replaced is not None and replaced.subject_id == user.subject_id else None

    def _new_ticket(
        self,
        request: Request,
        user: TestUser,
        amr: list[str] | None,
        acr: str | None,
        previous: SessionTicket | None,
    ) -> tuple[SessionTicket, bool]:
        """The session ``user`` signs in to, and whether it re-authenticates the browser's own session (then it
        keeps that session's ``sid`` and clients)."""
        ticket = self.ui.services.user_session.new_ticket(
            user.subject_id,
            amr or ["pwd"],
            "local",
            self._session_display_name(user),
            acr,
            issuer=self.ui.base_url(request),
        )
        reauthentication = previous is not None and previous.subject_id == user.subject_id
        if previous is not None and reauthentication:
            # re-authentication (prompt=login, max_age, step-up) keeps the session: same sid, same clients
            ticket.session_id, ticket.client_ids = previous.session_id, list(previous.client_ids)
        return ticket, reauthentication

    async def _login_page(
        self,
        request: Request,
        return_url: str,
        context: AuthorizationRequest | None,
        username: str | None,
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        create_url = self.ui.services.options.user_interaction.create_account_url
        return await self.ui.render(
            request,
            "login.html",
            status,
            return_url=return_url,
            context=context,
            username=username or "",
            error=error,
            can_create=bool(create_url and self.ui.services.users is not None),
            **await login_providers(self.ui, context),
            passkeys=self.passkeys_enabled,
            sign_in_attempt=await self.attempts.new() if self.sign_in_once else None,
            headers={"content-security-policy": PASSKEY_CSP} if self.passkeys_enabled else None,
        )

    async def create(self, request: Request) -> Response:
        """Registration for ``prompt=create`` (Initiating User Registration via OIDC 1.0)."""
        return_url = request.query_params.get("returnUrl", "")
        users = self.ui.services.users
        if users is None or not self.ui.services.options.user_interaction.create_account_url:
            return await self.ui.render(
                request, "error.html", 404, error="not_found", error_description="Account creation is not available."
            )
        if request.method == "GET":
            return await self._create_page(request, return_url, {})
        form = await self.ui.verified_form(request)
        if not isinstance(form, FormData):
            return form
        return_url = field(form, "returnUrl", 8000)
        values = {name: field(form, name, 200) for name in ("username", "name", "email")}
        password = field(form, "password", 100)
        attempt = await self.attempts.read(form, CREATE_ACCOUNT_FORM) if self.sign_in_once else None
        problem = None
        if not 3 <= len(values["username"]) <= 100 or not values["username"].isprintable():
            problem = "Choose a username of 3 to 100 characters."
        elif len(password) < 8:
            problem = "Choose a password of at least 8 characters."
        elif await users.find_by_username(values["username"]) is None:
            claims = [Claim("name", values["name"] or values["username"])]
            if values["email"]:
                claims.append(Claim("email", values["email"]))
            try:
                user = await users.auto_provision_user(values["username"], password, claims)
            except ValueError:  # another request took the username since the check above
                problem = USERNAME_TAKEN
            else:
                cookies = await self._sign_in(request, user, attempt=attempt)
                return self.ui.redirect(self._after_login_url(request, return_url), cookies)
        else:
            problem = USERNAME_TAKEN
        if attempt is not None and problem == USERNAME_TAKEN:
            joined = await self._join_created(request, users, values["username"], password, attempt)
            if joined is not None:
                return self.ui.redirect(self._after_login_url(request, return_url), joined)
        return await self._create_page(request, return_url, values, problem, 400)

    async def _join_created(
        self, request: Request, users: UserStore, username: str, password: str, attempt: bytes
    ) -> list[str] | None:
        """A double-submitted account creation (security.md R9): the username is taken by the account this form's
        first submission made and signed in to. Its session, when this form's attempt was claimed for that account
        and the password is the account's; else ``None``. The claim is asked first, so that only the form that made
        the account ever has its password checked here (every "taken" answer of a form with an attempt takes the
        same time, whatever the password), and the check is throttled as the login's."""
        user = await users.find_by_username(username)
        if user is None or not await self.attempts.claimed(attempt, user.subject_id):
            return None
        address = request.client.host if request.client else "-"
        if await self.throttle.blocked(username, address):
            return None
        if await users.validate_credentials(username, password) is None:
            await self.throttle.failed(username, address)
            return None
        return await self._join(request, user, ["pwd"], None, attempt)

    async def _create_page(
        self,
        request: Request,
        return_url: str,
        values: dict[str, str],
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        attempt = await self.attempts.new(CREATE_ACCOUNT_FORM) if self.sign_in_once else None
        return await self.ui.render(
            request, "create.html", status, return_url=return_url, values=values, error=error, sign_in_attempt=attempt
        )
