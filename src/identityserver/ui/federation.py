"""Sign-in through upstream OpenID Connect providers (Duende dynamic providers with the host's
``ExternalLogin/Challenge`` and ``Callback``; docs/federation.md).

``/account/external?scheme=..&returnUrl=..`` starts the round trip: state, nonce and a PKCE verifier (RFC 7636)
go into a short-lived cookie sealed by the data-protection key ring, bound to this browser. The upstream answers at
``{path_prefix}/{scheme}/signin``; the ID token is validated against the upstream's discovery document and JWKS,
the account is resolved (``ExternalUserResolver``) and the local session carries ``idp`` = the scheme and
``amr`` = ``external`` as IdentityServer sets them. Sign-out ends the upstream session too (OIDC RP-Initiated
Logout 1.0) and an upstream front-channel logout (OIDC Front-Channel Logout 1.0) at
``{path_prefix}/{scheme}/signout`` ends the local one."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from identityserver._utils.origins import web_origin
from identityserver._utils.urls import is_local_url
from identityserver.crypto.hashing import constant_time_equals, sha256_b64url
from identityserver.crypto.protection import DataProtectionError
from identityserver.events import UserLoginFailureEvent, UserLoginSuccessEvent, UserLogoutSuccessEvent
from identityserver.models.identity_providers import OidcProvider
from identityserver.models.messages import AuthorizationRequest, LogoutMessage
from identityserver.models.users import TestUser
from identityserver.services.identity_providers import FederatedSession, FederationService
from identityserver.services.upstream_oidc import UpstreamError
from identityserver.services.user_session import SessionTicket
from identityserver.ui.context import UiContext
from identityserver.ui.forms import read_form
from identityserver.validation.upstream_id_token import UpstreamTokenError, validate_upstream_id_token

logger = logging.getLogger("identityserver.federation")
STATE_COOKIE = "idsrv.external"
"""Duende's external sign-in scheme name; one pending round trip per browser."""
STATE_LIFETIME = 900
AMR_EXTERNAL = "external"
"""IdentityServer's ``amr`` of a sign-in at an external provider (``Constants.ExternalAuthenticationMethod``)."""
NONCE_PURPOSE = "federation.nonce"
CHALLENGE_PATH = "/account/external"


async def login_providers(ui: UiContext, context: AuthorizationRequest | None) -> dict[str, Any]:
    """What the login page shows: the providers the client accepts, and whether the local form is offered."""
    federation = ui.services.federation
    providers = await federation.providers_for(context.client if context else None) if federation else []
    return {
        "providers": providers,
        "enable_local": context is None or context.client.enable_local_login,
    }


async def direct_challenge(
    ui: UiContext, request: Request, context: AuthorizationRequest | None, return_url: str
) -> str | None:
    """Where the login page sends the browser at once: the provider of ``acr_values=idp:scheme`` when the client
    accepts it, or the only provider when the client allows no local login (Duende host ``Login`` page)."""
    federation = ui.services.federation
    if federation is None or context is None:
        return None
    scheme = None
    if context.idp and context.idp != "local" and await federation.allowed(context.idp, context.client):
        scheme = context.idp
    elif not context.client.enable_local_login:
        providers = await federation.providers_for(context.client)
        scheme = providers[0].scheme if len(providers) == 1 else None
    if scheme is None:
        return None
    return ui.path(request, CHALLENGE_PATH) + "?" + urlencode({"scheme": scheme, "returnUrl": return_url})


def _cookie(value: str, secure: bool, max_age: int) -> str:
    # SameSite=None over https so that a form_post answer (a cross-site POST) carries it; Lax otherwise
    same_site = "None; Secure" if secure else "Lax"
    return f"{STATE_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite={same_site}"


class FederationPages:
    def __init__(self, ui: UiContext, federation: FederationService) -> None:
        self.ui = ui
        self.federation = federation
        self.protector = ui.services.data_protection.create_protector("identityserver.federation.state")

    def _redirect_uri(self, request: Request, scheme: str) -> str:
        return f"{self.ui.base_url(request)}{self.federation.path_prefix}/{scheme}/signin"

    async def _error(self, request: Request, status: int, description: str, clear: bool = False) -> Response:
        cookies = [_cookie("", self.ui.secure(request), 0)] if clear else []
        return await self.ui.render(
            request, "error.html", status, cookies, error="external_sign_in_failed", error_description=description
        )

    async def _refuse(self, request: Request, scheme: str, status: int, description: str, reason: str) -> Response:
        """End the round trip with an error page and a ``UserLoginFailureEvent`` (``username`` names the
        provider: the upstream account is not known here)."""
        event = UserLoginFailureEvent(message=reason, username=f"{scheme}:external", endpoint="UI")
        await self.ui.services.events.raise_event(event, request.client.host if request.client else None)
        return await self._error(request, status, description, clear=True)

    def _local_return_url(self, request: Request, return_url: str) -> str:
        if self.ui.services.interaction.is_valid_return_url(return_url) or is_local_url(return_url):
            return return_url
        return self.ui.path(request, "/")

    async def challenge(self, request: Request) -> Response:
        scheme = request.query_params.get("scheme", "")[:200]
        return_url = self._local_return_url(request, request.query_params.get("returnUrl", "")[:8000])
        context = await self.ui.services.interaction.get_authorization_context(return_url, self.ui.base_url(request))
        provider = await self.federation.allowed(scheme, context.client if context else None)
        if provider is None:
            return await self._error(request, 404, "That identity provider is not available.")
        link_subject = None
        if request.query_params.get("link") == "true":
            # linking needs the local user's own session: the upstream account joins the signed-in user
            ticket = await self.ui.user(request)
            if ticket is None or ticket.idp != "local":
                return await self._error(request, 400, "Sign in with your password first to link an account.")
            link_subject = ticket.subject_id
        try:
            metadata = await self.federation.upstream.metadata(provider)
        except UpstreamError as exc:
            logger.warning("identity provider %r: %s", provider.scheme, exc)
            return await self._error(request, 502, f"{provider.display_name} cannot be reached. Try again later.")
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        parameters = {
            "client_id": provider.client_id,
            "response_type": provider.response_type,
            "scope": provider.scope,
            "redirect_uri": self._redirect_uri(request, provider.scheme),
            "state": state,
            "nonce": nonce,
        }
        if link_subject is not None:
            # OIDC Core §3.1.2.1 prompt=login: the account to link is the one the user signs in to now, never an
            # upstream session already in the browser (one a cross-site page may have planted)
            parameters["prompt"] = "login"
        if provider.response_type == "id_token":
            parameters["response_mode"] = "form_post"  # never an ID token in a URL (OAuth 2.0 Form Post §2)
        elif provider.use_pkce:
            parameters |= {"code_challenge": sha256_b64url(verifier), "code_challenge_method": "S256"}
        sealed = await self.protector.protect(
            json.dumps(
                {
                    "scheme": provider.scheme,
                    "state": state,
                    "nonce": nonce,
                    "verifier": verifier if provider.use_pkce else None,
                    "return_url": return_url,
                    "link": link_subject,
                    "expires": self.ui.services.clock.timestamp() + STATE_LIFETIME,
                }
            ).encode()
        )
        separator = "&" if "?" in metadata.authorization_endpoint else "?"
        return self.ui.redirect(
            metadata.authorization_endpoint + separator + urlencode(parameters),
            [_cookie(sealed, self.ui.secure(request), STATE_LIFETIME)],
        )

    async def _pending(self, request: Request, scheme: str) -> dict[str, Any] | None:
        raw = request.cookies.get(STATE_COOKIE)
        if not raw or len(raw) > 4000:
            return None
        try:
            pending = json.loads(await self.protector.unprotect(raw))
        except (DataProtectionError, ValueError):
            return None
        if not isinstance(pending, dict) or pending.get("scheme") != scheme:
            return None
        if (
            not isinstance(pending.get("expires"), float | int)
            or pending["expires"] < self.ui.services.clock.timestamp()
        ):
            return None
        return pending

    async def signin(self, request: Request) -> Response:
        """The redirection endpoint of the upstream round trip (query, or ``form_post``)."""
        scheme = request.path_params["scheme"]
        params: dict[str, str] = {k: v for k, v in request.query_params.items() if len(v) <= 8000}
        if request.method == "POST":
            form = await read_form(request)
            params = {k: v for k, v in form.items() if isinstance(v, str) and len(v) <= 16000}
        pending = await self._pending(request, scheme)
        state = params.get("state", "")
        if pending is None or not state or not constant_time_equals(state, str(pending["state"])):
            return await self._error(request, 400, "This sign-in was not started here or has expired. Start again.")
        provider = await self.federation.providers.find(scheme)
        if provider is None:
            return await self._error(request, 404, "That identity provider is not available.", clear=True)
        if "error" in params:
            error = params["error"][:100]
            logger.info("identity provider %r answered %s", scheme, error)
            description = f"{provider.display_name} did not sign you in ({error})."
            return await self._refuse(request, scheme, 400, description, f"upstream error {error}")
        try:
            claims, id_token = await self._validated_claims(provider, params, pending, request)
        except (UpstreamError, UpstreamTokenError) as exc:
            logger.warning("identity provider %r: sign-in refused: %s", scheme, exc)
            description = f"The answer of {provider.display_name} was not valid."
            return await self._refuse(request, scheme, 400, description, f"invalid upstream answer: {exc}")
        if not await self.ui.services.replay_cache.add(NONCE_PURPOSE, str(pending["nonce"]), STATE_LIFETIME * 2):
            return await self._refuse(request, scheme, 400, "This sign-in was already used.", "replayed answer")
        user = await self.federation.resolver.resolve(scheme, claims, pending.get("link"))
        if user is None:
            reason = "no local user for the upstream account"
            return await self._refuse(request, scheme, 403, "This account cannot sign in here.", reason)
        cookies = await self._sign_in(request, user, provider, claims, id_token)
        context = await self.ui.services.interaction.get_authorization_context(
            str(pending["return_url"]), self.ui.base_url(request)
        )
        await self.ui.services.events.raise_event(
            UserLoginSuccessEvent(
                username=user.username,
                subject_id=user.subject_id,
                client_id=context.client.client_id if context else None,
                display_name=user.display_name(),
                provider=scheme,
                provider_user_id=str(claims["sub"]),
                endpoint="UI",
            ),
            request.client.host if request.client else None,
        )
        cookies.append(_cookie("", self.ui.secure(request), 0))
        return self.ui.redirect(self._local_return_url(request, str(pending["return_url"])), cookies)

    async def _validated_claims(
        self, provider: OidcProvider, params: dict[str, str], pending: dict[str, Any], request: Request
    ) -> tuple[dict[str, Any], str]:
        upstream = self.federation.upstream
        metadata = await upstream.metadata(provider)
        # RFC 9207 §2.4: an answer naming another issuer is a mix-up; one that announces iss must carry it
        iss = params.get("iss")
        if (iss is None and metadata.authorization_response_iss_parameter_supported) or (
            iss is not None and iss != metadata.issuer
        ):
            raise UpstreamTokenError("the answer's iss is not the upstream issuer")
        code, access_token = params.get("code"), None
        if provider.response_type == "code":
            if not code:
                raise UpstreamTokenError("no code in the answer")
            response = await upstream.redeem_code(
                provider, metadata, code, self._redirect_uri(request, provider.scheme), pending.get("verifier")
            )
            id_token, access_token = response.get("id_token"), response.get("access_token")
            if not isinstance(access_token, str):
                access_token = None
        else:
            id_token = params.get("id_token")
        if not isinstance(id_token, str):
            raise UpstreamTokenError("no id_token in the answer")
        now = self.ui.services.clock.timestamp()
        claims = await validate_upstream_id_token(
            id_token, provider, metadata, upstream, str(pending["nonce"]), now, code, access_token
        )
        if provider.get_claims_from_user_info_endpoint and access_token and metadata.userinfo_endpoint:
            info = await upstream.userinfo(metadata, access_token)
            if info.get("sub") != claims["sub"]:  # OIDC Core §5.3.2: a token substitution otherwise
                raise UpstreamTokenError("userinfo sub differs from the ID token's")
            claims = {**info, **claims}
        return claims, id_token

    async def _sign_in(
        self, request: Request, user: TestUser, provider: OidcProvider, claims: dict[str, Any], id_token: str
    ) -> list[str]:
        session = self.ui.services.user_session
        previous = await self.ui.user(request)
        ticket = session.new_ticket(
            user.subject_id, [AMR_EXTERNAL], provider.scheme, user.display_name(), issuer=self.ui.base_url(request)
        )
        if previous is not None:
            await self._end_local(request, previous, same_user=previous.subject_id == user.subject_id)
            if previous.subject_id == user.subject_id:
                ticket.session_id, ticket.client_ids = previous.session_id, list(previous.client_ids)
        cookies = await session.sign_in(ticket, self.ui.secure(request))
        upstream_sid = claims.get("sid")
        await self.federation.remember(
            user.subject_id,
            ticket.session_id,
            ticket.expires,
            FederatedSession(
                provider.scheme, provider.authority, id_token, upstream_sid if isinstance(upstream_sid, str) else None
            ),
        )
        return cookies

    async def _end_local(self, request: Request, ticket: SessionTicket, same_user: bool = False) -> list[str]:
        """End the local session; another user's (or a sign-out's) also notifies its clients."""
        cookies = await self.ui.services.user_session.sign_out(ticket, self.ui.secure(request))
        if not same_user:
            await self.federation.forget(ticket.session_id)
            await self.ui.services.logout.signed_out(
                LogoutMessage(subject_id=ticket.subject_id, session_id=ticket.session_id, client_ids=ticket.client_ids),
                self.ui.base_url(request),
            )
        return cookies

    async def signout(self, request: Request) -> Response:
        """Front-channel logout from the upstream (OIDC Front-Channel Logout 1.0 §2-3): rendered in the upstream's
        iframe; ends the local session when ``iss`` and ``sid`` name the upstream session it came from."""
        scheme = request.path_params["scheme"]
        iss, sid = request.query_params.get("iss"), request.query_params.get("sid")
        ticket = await self.ui.user(request)
        record = await self.federation.session(ticket.session_id) if ticket else None
        cookies: list[str] = []
        if (
            ticket is not None
            and record is not None
            and record.scheme == scheme
            and iss == record.issuer
            and (record.upstream_sid is None or sid == record.upstream_sid)
        ):
            cookies = await self._end_local(request, ticket)
            await self.ui.services.events.raise_event(
                UserLogoutSuccessEvent(
                    subject_id=ticket.subject_id, session_id=ticket.session_id, display_name=ticket.display_name
                ),
                request.client.host if request.client else None,
            )
        origin = web_origin(record.issuer) if record else None
        ancestors = origin or "'none'"
        response = HTMLResponse(
            "<!doctype html><title>Signed out</title>",
            headers={
                "Content-Security-Policy": f"default-src 'none'; frame-ancestors {ancestors}; base-uri 'none'",
                "Cache-Control": "no-store",
            },
        )
        for cookie in cookies:
            response.headers.append("set-cookie", cookie)
        return response

    async def signout_callback(self, request: Request) -> Response:
        """Where the upstream returns after RP-initiated logout; ``state`` is our logout id."""
        options = self.ui.services.options.user_interaction
        logout_id = request.query_params.get("state", "")[:16384]
        target = self.ui.path(request, "/account/logged-out")
        return self.ui.redirect(f"{target}?{urlencode({options.logout_id_parameter: logout_id})}")


async def federated_session(ui: UiContext, ticket: SessionTicket | None) -> FederatedSession | None:
    """The upstream session behind ``ticket``, read and forgotten: the local session is ending."""
    if ticket is None or ticket.idp == "local" or ui.services.federation is None:
        return None
    record = await ui.services.federation.session(ticket.session_id)
    await ui.services.federation.forget(ticket.session_id)
    return record


async def upstream_sign_out_url(
    ui: UiContext, request: Request, record: FederatedSession | None, logout_id: str
) -> str | None:
    """The upstream's ``end_session_endpoint`` with ``id_token_hint`` when it has one (OIDC RP-Initiated Logout
    1.0 §2), returning to ``{path_prefix}/{scheme}/signout-callback`` with the logout id as ``state``."""
    federation = ui.services.federation
    if record is None or federation is None:
        return None
    provider = await federation.providers.find(record.scheme)
    if provider is None:
        return None
    try:
        metadata = await federation.upstream.metadata(provider)
    except UpstreamError as exc:
        logger.warning("identity provider %r: no upstream sign-out: %s", record.scheme, exc)
        return None
    if not metadata.end_session_endpoint:
        return None
    callback = f"{ui.base_url(request)}{federation.path_prefix}/{record.scheme}/signout-callback"
    query = urlencode(
        {
            "id_token_hint": record.id_token,
            "client_id": provider.client_id,
            "post_logout_redirect_uri": callback,
            "state": logout_id,
        }
    )
    separator = "&" if "?" in metadata.end_session_endpoint else "?"
    return metadata.end_session_endpoint + separator + query


def federation_routes(ui: UiContext) -> list[Route]:
    """The challenge and the ``{path_prefix}/{scheme}/...`` paths (Duende ``DynamicProviderOptions``)."""
    federation = ui.services.federation
    if federation is None:
        return []
    pages, prefix = FederationPages(ui, federation), federation.path_prefix
    return [
        Route(CHALLENGE_PATH, pages.challenge),
        Route(prefix + "/{scheme}/signin", pages.signin, methods=["GET", "POST"]),
        Route(prefix + "/{scheme}/signout", pages.signout),
        Route(prefix + "/{scheme}/signout-callback", pages.signout_callback),
    ]
